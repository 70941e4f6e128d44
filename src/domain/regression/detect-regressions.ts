import type { StackTree } from '../profile/tree';
import { treeFunctions } from '../profile/tree';
import type { FunctionValue } from '../profile/profile.types';
import { benjaminiHochbergAdjust, holmAdjust, poissonRateZ, twoProportionZ, twoSidedP } from './statistics';
import type { DetectOptions, RegressionFinding, RegressionKind, RegressionReport, RegressionSample } from './regression.types';

const DEFAULT_PERIOD_NS = 10_000_000n;
const YEAR_NS = 365n * 86_400n * 1_000_000_000n;

interface Candidate {
  readonly function: string;
  readonly kind: RegressionKind;
  readonly base: bigint;
  readonly current: bigint;
  z: number;
  rawP: number;
  pValue: number;
  readonly delta: bigint;
}

/**
 * Compares every function of one service, flat and cum, between a base and a current sample, and returns the
 * increases a team should hear about, most expensive first.
 *
 * Normalization: per unit of work, so that traffic growth alone (every function scaled alike) reports nothing. By
 * default the unit is the service's own total (a function's share of the service's samples); when both samples
 * carry a request count, values are compared per request (which also catches a service that got slower as a whole).
 *
 * A change is reported only when it is (1) statistically significant on the sample COUNTS, two-proportion z-test
 * (shares) or a Poisson rate test (per request), adjusted over all 2 × functions tests (Holm by default), (2) at
 * least `minRelativeChange` relative, and (3) with a price, at least `minImpactPerYearMicros` a year.
 *
 * Counts: CPU trees hold nanoseconds, while the test needs how many samples each value stands for; a CPU profile's
 * value is its sample count times the sampling period (Go writes both `samples/count` and `cpu/nanoseconds`, and the
 * stored trees keep the nanoseconds and the period), so counts are value / period, rounded; a `count` tree is its own
 * count; with no period known, `periodFallback` (100 Hz).
 *
 * One regression moves many numbers (the function, its callers' cum, its callees when it started calling something
 * new); `blame` keeps the one the team must change: see `blame`.
 */
export function detectRegressions(base: RegressionSample, current: RegressionSample, options: DetectOptions = {}): RegressionReport {
  const alpha = options.alpha ?? 0.01;
  const minRelative = options.minRelativeChange ?? 0.1;
  const fallback = options.periodFallback ?? DEFAULT_PERIOD_NS;
  const baseTree = base.tree;
  const currentTree = current.tree;
  const basePeriod = samplePeriod(baseTree, fallback);
  const currentPeriod = samplePeriod(currentTree, fallback);
  const count = (v: bigint, period: bigint) => Number((v + period / 2n) / period);
  const baseN = count(baseTree.value, basePeriod);
  const currentN = count(currentTree.value, currentPeriod);
  const perRequest = base.requests !== undefined && current.requests !== undefined && base.requests > 0 && current.requests > 0;
  // expected(current) = base × scale: the base value at the current traffic.
  const scale = perRequest
    ? { num: BigInt(Math.round(current.requests!)), den: BigInt(Math.round(base.requests!)) }
    : { num: currentTree.value, den: baseTree.value };
  const expected = (b: bigint) => (scale.den === 0n ? 0n : (b * scale.num) / scale.den);
  const baseFns = treeFunctions(baseTree);
  const currentFns = treeFunctions(currentTree);
  const ignored = options.ignoreFunction ?? isProfilerArtifact;
  const names = [...new Set([...baseFns.keys(), ...currentFns.keys()])].filter((n) => !ignored(n)).sort();

  const candidates: Candidate[] = [];
  for (const name of names) {
    const b = baseFns.get(name) ?? ZERO;
    const c = currentFns.get(name) ?? ZERO;
    for (const kind of ['flat', 'cum'] as const) {
      const x1 = count(b[kind], basePeriod);
      const x2 = count(c[kind], currentPeriod);
      const z = perRequest ? poissonRateZ(x1, base.requests!, x2, current.requests!) : twoProportionZ(x1, baseN, x2, currentN);
      candidates.push({ function: name, kind, base: b[kind], current: c[kind], z, rawP: twoSidedP(z), pValue: 1, delta: c[kind] - expected(b[kind]) });
    }
  }
  // Samples are not independent draws (they cluster by request, GC cycle and scheduling), so the binomial variance is
  // too small and every function drifts "significantly" between two runs of one build. Genomic control (Devlin &
  // Roeder 1999) estimates the inflation from the bulk of the tests, which do not regress: lambda = median(z²) /
  // 0.4549 (the median of chi-square with 1 degree of freedom), and divides every z by sqrt(lambda) when lambda > 1.
  const lambda = inflation(candidates.map((c) => c.z));
  for (const c of candidates) {
    c.z /= Math.sqrt(lambda);
    c.rawP = twoSidedP(c.z);
  }
  const adjusted = (options.correction === 'benjamini-hochberg' ? benjaminiHochbergAdjust : holmAdjust)(candidates.map((c) => c.rawP));
  candidates.forEach((c, i) => (c.pValue = adjusted[i]!));

  const impact = (delta: bigint): bigint | null => {
    const price = options.price;
    if (!price || price.windowNanoseconds <= 0n || price.microsPerValue.denominator === 0n) return null;
    return (delta * price.microsPerValue.numerator * YEAR_NS) / (price.microsPerValue.denominator * price.windowNanoseconds);
  };
  const relative = (c: Candidate) => {
    const e = expected(c.base);
    return e === 0n ? Infinity : Number(((c.current - e) * 1_000_000n) / e) / 1e6;
  };
  const minImpact = options.minImpactPerYearMicros ?? 0n;
  const kept = candidates.filter((c) => {
    if (c.delta <= 0n || c.z <= 0 || c.pValue >= alpha) return false;
    if (relative(c) < minRelative) return false;
    const money = impact(c.delta);
    return money === null || money >= minImpact;
  });

  const edges = { base: callEdges(baseTree), current: callEdges(currentTree) };
  const blamed = blame(kept, edges, newCallValues(currentTree, edges.base), expected, options.blameFraction ?? 0.8);
  const findings = blamed.map((c): RegressionFinding => ({
    function: c.function,
    kind: c.kind,
    baseValue: c.base,
    currentValue: c.current,
    baseTotal: baseTree.value,
    currentTotal: currentTree.value,
    baseShare: ratio(c.base, baseTree.value),
    currentShare: ratio(c.current, currentTree.value),
    relativeChange: relative(c),
    pValue: c.pValue,
    valueDelta: c.delta,
    impactPerYearMicros: impact(c.delta),
    topCallers: topCallers(c.function, edges, expected),
  }));
  findings.sort((a, b) => {
    const ka = a.impactPerYearMicros ?? a.valueDelta;
    const kb = b.impactPerYearMicros ?? b.valueDelta;
    if (ka !== kb) return ka > kb ? -1 : 1;
    return a.function < b.function ? -1 : a.function > b.function ? 1 : a.kind < b.kind ? 1 : -1;
  });
  return { findings, tests: candidates.length, baseSamples: baseN, currentSamples: currentN, inflation: lambda };
}

/** Value of one sample: the tree's period, 1 for a tree of counts (`samples/count`), else the fallback. */
function samplePeriod(tree: StackTree, fallback: bigint): bigint {
  if (tree.sampleType.unit === 'count') return 1n;
  return tree.period > 0n ? tree.period : fallback;
}

const ZERO: FunctionValue = { flat: 0n, cum: 0n };

/** Value of caller → callee pairs of functions (`caller\0callee`): the total of callee nodes right under a caller. */
type Edges = Map<string, bigint>;

/**
 * Edge values at function granularity. A recursive pair (f → g → f → g) counts each level, which only makes the
 * blame rules below more willing to move blame along it; the figures of a finding never come from edges.
 */
function callEdges(tree: StackTree): Edges {
  const out: Edges = new Map();
  for (let i = 1; i < tree.nodeCount; i++) {
    const p = tree.parent[i]!;
    if (p <= 0) continue;
    const caller = tree.functionOf(p).name;
    const callee = tree.functionOf(i).name;
    if (caller === callee) continue;
    const key = `${caller}\u0000${callee}`;
    out.set(key, (out.get(key) ?? 0n) + tree.total[i]!);
  }
  return out;
}

function edgeDelta(key: string, edges: { base: Edges; current: Edges }, expected: (b: bigint) => bigint): bigint {
  return (edges.current.get(key) ?? 0n) - expected(edges.base.get(key) ?? 0n);
}

/**
 * Keeps one finding per regression, the function whose code the team must change:
 *  - a finding is dropped when its increase arrived through calls the base never made (an edge caller → callee
 *    absent from the base, anywhere above it on the stack): the caller started calling something new, so the caller
 *    is the regression (a regex compiled per call blames the caller, not `regexp.compile`, `runtime.mallocgc` or
 *    `runtime.growslice` under it), and the caller's own finding, whose path has no new call, stays;
 *  - a function's cum is dropped when its own flat explains it, else its flat is dropped (one finding a function);
 *  - a caller's cum is dropped when one callee it already called before explains it and that callee's finding stays.
 * "Explains" means at least `fraction` of the increase.
 */
function blame(found: readonly Candidate[], edges: { base: Edges; current: Edges }, viaNew: ReadonlyMap<string, FunctionValue>, expected: (b: bigint) => bigint, fraction: number): Candidate[] {
  const explains = (part: bigint, whole: bigint) => whole > 0n && Number((part * 1000n) / whole) / 1000 >= fraction;
  const primary = found.filter((c) => !explains(viaNew.get(c.function)?.[c.kind] ?? 0n, c.delta));
  const byKey = new Map(primary.map((c) => [`${c.kind}\u0000${c.function}`, c]));
  const callees = new Map<string, string[]>();
  for (const key of edges.current.keys()) {
    const [caller, callee] = key.split('\u0000') as [string, string];
    callees.set(caller, [...(callees.get(caller) ?? []), callee]);
  }
  const oneOf = primary.filter((c) => {
    const flat = byKey.get(`flat\u0000${c.function}`);
    const cum = byKey.get(`cum\u0000${c.function}`);
    if (!flat || !cum) return true;
    const flatWins = explains(flat.delta, cum.delta);
    return c.kind === 'flat' ? flatWins : !flatWins;
  });
  const stays = new Set(oneOf.map((c) => c.function));
  return oneOf.filter((c) => {
    if (c.kind !== 'cum') return true;
    return !(callees.get(c.function) ?? []).some((g) => {
      const e = `${c.function}\u0000${g}`;
      return g !== c.function && (edges.base.get(e) ?? 0n) > 0n && stays.has(g) && explains(edgeDelta(e, edges, expected), c.delta);
    });
  });
}

/**
 * Flat and cum of every function counted only where the function sits below a call absent from the base (an edge
 * caller → callee of `baseEdges` with no value), with pprof's cum semantics (once per stack).
 */
function newCallValues(tree: StackTree, baseEdges: Edges): Map<string, FunctionValue> {
  const n = tree.nodeCount;
  const below = new Uint8Array(n);
  for (let i = 1; i < n; i++) {
    const p = tree.parent[i]!;
    if (p <= 0) continue;
    if (below[p]) below[i] = 1;
    else {
      const caller = tree.functionOf(p).name;
      const callee = tree.functionOf(i).name;
      if (caller !== callee && !baseEdges.has(`${caller}\u0000${callee}`)) below[i] = 1;
    }
  }
  const flat = new Map<string, bigint>();
  const cum = new Map<string, bigint>();
  const onPath = new Map<string, number>();
  const { start, ids } = tree.children();
  const stack: number[] = [];
  for (let c = start[0]!; c < start[1]!; c++) stack.push(ids[c]!);
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item < 0) {
      const name = tree.functionOf(~item).name;
      onPath.set(name, onPath.get(name)! - 1);
      continue;
    }
    const name = tree.functionOf(item).name;
    if (below[item]) {
      flat.set(name, (flat.get(name) ?? 0n) + tree.self[item]!);
      if (!onPath.get(name)) cum.set(name, (cum.get(name) ?? 0n) + tree.total[item]!);
    }
    onPath.set(name, (onPath.get(name) ?? 0) + 1);
    stack.push(~item);
    for (let c = start[item]!; c < start[item + 1]!; c++) stack.push(ids[c]!);
  }
  const out = new Map<string, FunctionValue>();
  for (const name of new Set([...flat.keys(), ...cum.keys()])) out.set(name, { flat: flat.get(name) ?? 0n, cum: cum.get(name) ?? 0n });
  return out;
}

/**
 * Frames a profiler or runtime inserts rather than the program calls: Go's signal-based preemption pushes
 * `runtime.asyncPreempt` onto whatever it interrupts, and how often depends on GC and the machine's load, not on the
 * code (it moved 3× between two runs of one binary here); pprof's own placeholders for samples without a stack.
 */
export function isProfilerArtifact(name: string): boolean {
  return name === 'runtime.asyncPreempt' || name === 'runtime.asyncPreempt2' || name === 'runtime._ExternalCode' || name === 'runtime._System' || name === 'runtime._GC' || name === 'runtime._VDSO';
}

/** Genomic-control inflation factor of a set of z statistics: median(z²) / median of chi-square(1), at least 1. */
export function inflation(zs: readonly number[]): number {
  const squares = zs.filter((z) => z !== 0).map((z) => z * z).sort((a, b) => a - b);
  if (squares.length < 20) return 1;
  const mid = squares.length >> 1;
  const median = squares.length % 2 ? squares[mid]! : (squares[mid - 1]! + squares[mid]!) / 2;
  return Math.max(1, median / 0.454936);
}

function topCallers(fn: string, edges: { base: Edges; current: Edges }, expected: (b: bigint) => bigint): { function: string; valueDelta: bigint }[] {
  const out: { function: string; valueDelta: bigint }[] = [];
  for (const key of edges.current.keys()) {
    const [caller, callee] = key.split('\u0000') as [string, string];
    if (callee !== fn) continue;
    const d = edgeDelta(key, edges, expected);
    if (d > 0n) out.push({ function: caller, valueDelta: d });
  }
  return out.sort((a, b) => (a.valueDelta > b.valueDelta ? -1 : a.valueDelta < b.valueDelta ? 1 : a.function < b.function ? -1 : 1)).slice(0, 5);
}

/** a / b as a number with 1e-12 resolution. */
function ratio(a: bigint, b: bigint): number {
  if (b === 0n) return 0;
  return Number((a * 1_000_000_000_000n) / b) / 1e12;
}
