import { StackTree, treeFunctions, withoutFrames } from '../profile/tree';
import type { FunctionValue } from '../profile/profile.types';
import { benjaminiHochbergAdjust, holmAdjust, twoSidedP } from './statistics';
import type {
  DetectOptions,
  RegressionFinding,
  RegressionKind,
  RegressionReport,
  RegressionSample,
} from './regression.types';

const DEFAULT_PERIOD_NS = 10_000_000n;
/**
 * Relative standard deviation of a function's share between two runs of the same build under the same traffic. 0.1:
 * on the null pairs of test/fixtures/regressions (4 runs of v1, 12 ordered pairs) sampling noise alone flagged
 * shifts such as sort.pdqsort_func 17% → 23% and runtime.gcAssistAlloc 4.2% → 7.6%.
 */
const DEFAULT_BETWEEN_RUN_CV = 0.1;
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
 * A change is reported only when it is (1) statistically significant on the sample COUNTS: a test of the log rate
 * ratio (the function's count over its side's samples, or requests) whose variance is Poisson sampling plus a
 * between-run dispersion estimated from the profile pair itself (`betweenRunVariance`: a two-proportion test alone
 * flags differences between two runs of one build), adjusted over all 2 × functions tests (Holm by default); (2) at
 * least `minRelativeChange` relative; and (3) with a price, at least `minImpactPerYearMicros` a year.
 *
 * Counts: CPU trees hold nanoseconds, while the test needs how many samples each value stands for; a CPU profile's
 * value is its sample count times the sampling period (Go writes both `samples/count` and `cpu/nanoseconds`, and the
 * stored trees keep the nanoseconds and the period), so counts are value / period, rounded; a `count` tree is its own
 * count; with no period known, `periodFallback` (100 Hz).
 *
 * One regression moves many numbers (the function, its callers' cum, its callees when it started calling something
 * new); `blame` keeps the one the team must change: see `blame`.
 */
export function detectRegressions(
  base: RegressionSample,
  current: RegressionSample,
  options: DetectOptions = {},
): RegressionReport {
  const alpha = options.alpha ?? 0.01;
  const minRelative = options.minRelativeChange ?? 0.1;
  const fallback = options.periodFallback ?? DEFAULT_PERIOD_NS;
  const ignored = options.ignoreFunction ?? isProfilerArtifact;
  // Ignored frames go with their subtrees: what a preemption does (`runtime.asyncPreempt` → `asyncPreempt2` → the
  // scheduler) is neither the interrupted function's work nor the scheduler's regression, and leaving the subtree in
  // made `runtime.goschedImpl` "regress" between two runs of v1.
  const baseTree = withoutFrames(base.tree, ignored);
  const currentTree = withoutFrames(current.tree, ignored);
  const basePeriod = samplePeriod(baseTree, fallback);
  const currentPeriod = samplePeriod(currentTree, fallback);
  const count = (v: bigint, period: bigint) => Number((v + period / 2n) / period);
  const baseN = count(baseTree.value, basePeriod);
  const currentN = count(currentTree.value, currentPeriod);
  const perRequest =
    base.requests !== undefined && current.requests !== undefined && base.requests > 0 && current.requests > 0;
  // expected(current) = base × scale: the base value at the current traffic.
  const scale = perRequest
    ? { num: BigInt(Math.round(current.requests!)), den: BigInt(Math.round(base.requests!)) }
    : { num: currentTree.value, den: baseTree.value };
  const expected = (b: bigint) => (scale.den === 0n ? 0n : (b * scale.num) / scale.den);
  const baseFns = treeFunctions(baseTree);
  const currentFns = treeFunctions(currentTree);
  const names = [...new Set([...baseFns.keys(), ...currentFns.keys()])].sort();

  // Exposure of each side: its samples (shares) or its requests (per request).
  const e1 = perRequest ? base.requests! : baseN;
  const e2 = perRequest ? current.requests! : currentN;
  const counted: Array<{ name: string; kind: RegressionKind; x1: number; x2: number; b: bigint; c: bigint }> = [];
  for (const name of names) {
    const b = baseFns.get(name) ?? ZERO;
    const c = currentFns.get(name) ?? ZERO;
    for (const kind of ['flat', 'cum'] as const)
      counted.push({
        name,
        kind,
        x1: count(b[kind], basePeriod),
        x2: count(c[kind], currentPeriod),
        b: b[kind],
        c: c[kind],
      });
  }
  // Between-run noise of a share: a configured relative standard deviation (the pair's own estimate,
  // `betweenRunVariance`, is reported but not used: a large regression moves many well-sampled functions at once
  // (allocation, GC), which inflates it until the regression itself is no longer significant).
  const cv = options.betweenRunCv ?? DEFAULT_BETWEEN_RUN_CV;
  const dispersion = cv * cv;
  const candidates: Candidate[] = counted.map(({ name, kind, x1, x2, b, c }) => {
    const z = proportionZ(x1, e1, x2, e2, dispersion);
    return { function: name, kind, base: b, current: c, z, rawP: twoSidedP(z), pValue: 1, delta: c - expected(b) };
  });
  // What the dispersion term misses shows as an inflation of the bulk of the statistics: genomic control (Devlin &
  // Roeder 1999) divides every z by sqrt(median(z²) / 0.4549) when > 1. With shares, a large regression shrinks every
  // other function's share by one common factor, which is not noise: the inflation is measured on statistics
  // re-centred on that factor (the median share ratio of well-sampled functions).
  const shift = commonShareRatio(counted, e1, e2);
  const lambda = inflation(counted.map(({ x1, x2 }) => proportionZ(x1 * shift, e1, x2, e2, dispersion)));
  for (const c of candidates) {
    c.z /= Math.sqrt(lambda);
    c.rawP = twoSidedP(c.z);
  }
  const adjusted = (options.correction === 'benjamini-hochberg' ? benjaminiHochbergAdjust : holmAdjust)(
    candidates.map((c) => c.rawP),
  );
  candidates.forEach((c, i) => (c.pValue = adjusted[i]!));

  const impact = (delta: bigint): bigint | null => {
    const price = options.price;
    if (!price || price.windowNanoseconds <= 0n || price.microsPerValue.denominator === 0n) return null;
    return (
      (delta * price.microsPerValue.numerator * YEAR_NS) / (price.microsPerValue.denominator * price.windowNanoseconds)
    );
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
  return {
    findings,
    tests: candidates.length,
    baseSamples: baseN,
    currentSamples: currentN,
    dispersion: Math.sqrt(betweenRunVariance(counted, e1, e2)),
  };
}

/** Value of one sample: the tree's period, 1 for a tree of counts (`samples/count`), else the fallback. */
function samplePeriod(tree: StackTree, fallback: bigint): bigint {
  if (tree.sampleType.unit === 'count') return 1n;
  return tree.period > 0n ? tree.period : fallback;
}

/**
 * A function's value and share now, as `detectRegressions` measures them (ignored frames left out): the figures a
 * resolution message carries for a finding that is no longer detected.
 */
export function functionShare(
  tree: StackTree,
  fn: string,
  kind: RegressionKind,
  ignoreFunction: (name: string) => boolean = isProfilerArtifact,
): { value: bigint; total: bigint; share: number } {
  const kept = withoutFrames(tree, ignoreFunction);
  const value = treeFunctions(kept).get(fn)?.[kind] ?? 0n;
  return { value, total: kept.value, share: ratio(value, kept.value) };
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
    if (p <= 0 || tree.total[i] === 0n) continue;
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
function blame(
  found: readonly Candidate[],
  edges: { base: Edges; current: Edges },
  viaNew: ReadonlyMap<string, FunctionValue>,
  expected: (b: bigint) => bigint,
  fraction: number,
): Candidate[] {
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
      return (
        g !== c.function &&
        (edges.base.get(e) ?? 0n) > 0n &&
        stays.has(g) &&
        explains(edgeDelta(e, edges, expected), c.delta)
      );
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
  for (const name of new Set([...flat.keys(), ...cum.keys()]))
    out.set(name, { flat: flat.get(name) ?? 0n, cum: cum.get(name) ?? 0n });
  return out;
}

/**
 * Frames whose samples are the runtime's housekeeping rather than the service's work, left out of the comparison
 * with everything under them: Go's preemption (`runtime.asyncPreempt`, pushed by a signal onto whatever it
 * interrupts, and `gopreempt_m`), yields (`gosched_m`), and background sweeping and scavenging (`bgsweep`,
 * `bgscavenge`) and background marking (`gcBgMarkWorker`), whose share follows GC timing and the machine's load:
 * between runs of the same binary they moved up to 12× (test/fixtures/regressions, null pairs), and a regression that
 * allocates more shows where it allocates (`mallocgc` and mark assists under the allocating function), which stays
 * in. pprof's placeholders for samples without a stack too.
 */
const HOUSEKEEPING = new Set([
  'runtime.asyncPreempt',
  'runtime.asyncPreempt2',
  'runtime.gopreempt_m',
  'runtime.gosched_m',
  'runtime.bgsweep',
  'runtime.bgscavenge',
  'runtime.gcBgMarkWorker',
  'runtime._ExternalCode',
  'runtime._System',
  'runtime._GC',
  'runtime._VDSO',
]);

export function isProfilerArtifact(name: string): boolean {
  return HOUSEKEEPING.has(name);
}

/** Genomic-control inflation factor of a set of z statistics: median(z²) / median of chi-square(1), at least 1. */
export function inflation(zs: readonly number[]): number {
  const squares = zs
    .filter((z) => z !== 0)
    .map((z) => z * z)
    .sort((a, b) => a - b);
  if (squares.length < 20) return 1;
  return Math.max(1, median(squares) / 0.454936);
}

/** Median of (x2/e2) / (x1/e1) over well-sampled functions: the factor all shares moved by; 1 when too few. */
function commonShareRatio(
  counts: ReadonlyArray<{ readonly x1: number; readonly x2: number }>,
  e1: number,
  e2: number,
): number {
  const well = counts.filter((c) => c.x1 >= DISPERSION_MIN_COUNT && c.x2 >= DISPERSION_MIN_COUNT);
  if (well.length < 10 || e1 <= 0 || e2 <= 0) return 1;
  return median(well.map((c) => c.x2 / e2 / (c.x1 / e1)));
}

/** Counts of at least this many samples on both sides estimate the between-run dispersion. */
const DISPERSION_MIN_COUNT = 20;

/**
 * z of the log rate ratio of a function, ln((x2/e2) / (x1/e1)), with half a sample added to each count (so a
 * function absent on one side has a finite ratio), over its standard error: Poisson sampling (1/x1 + 1/x2) plus the
 * between-run variance of the log ratio (`betweenRunVariance`).
 */
export function proportionZ(x1: number, e1: number, x2: number, e2: number, betweenRun: number): number {
  if (e1 <= 0 || e2 <= 0) return 0;
  const p1 = x1 / e1;
  const p2 = x2 / e2;
  const pooled = (x1 + x2) / (e1 + e2);
  const sampling = Math.max(0, pooled * (1 - Math.min(1, pooled))) * (1 / e1 + 1 / e2);
  const mean = (p1 + p2) / 2;
  const variance = sampling + betweenRun * mean * mean;
  return variance > 0 ? (p2 - p1) / Math.sqrt(variance) : 0;
}

export function rateRatioZ(x1: number, e1: number, x2: number, e2: number, betweenRun: number): number {
  if (e1 <= 0 || e2 <= 0) return 0;
  const lr = Math.log((x2 + 0.5) / e2) - Math.log((x1 + 0.5) / e1);
  return lr / Math.sqrt(1 / (x1 + 0.5) + 1 / (x2 + 0.5) + betweenRun);
}

/**
 * Samples are not independent draws: two runs of one build split their CPU differently (cache and memory contention
 * on a shared machine, GC timing, the request mix), so a binomial test alone finds "significant" changes between any
 * two runs (sort.pdqsort 17% → 23% between two runs of v1 here). This estimates that extra variance of the log
 * ratio as a random effect, robustly from the functions themselves (few of which regress): the squared MAD of the
 * log ratios of well-sampled functions (× 1.4826, a normal's sigma) minus their median Poisson variance; 0 with fewer
 * than 10 such functions.
 */
export function betweenRunVariance(
  counts: ReadonlyArray<{ readonly x1: number; readonly x2: number }>,
  e1: number,
  e2: number,
): number {
  const well = counts.filter((c) => c.x1 >= DISPERSION_MIN_COUNT && c.x2 >= DISPERSION_MIN_COUNT);
  if (well.length < 10 || e1 <= 0 || e2 <= 0) return 0;
  const ratios = well.map((c) => Math.log(c.x2 / e2) - Math.log(c.x1 / e1));
  const center = median(ratios);
  const mad = 1.4826 * median(ratios.map((r) => Math.abs(r - center)));
  const poisson = median(well.map((c) => 1 / c.x1 + 1 / c.x2));
  return Math.max(0, mad * mad - poisson);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function topCallers(
  fn: string,
  edges: { base: Edges; current: Edges },
  expected: (b: bigint) => bigint,
): { function: string; valueDelta: bigint }[] {
  const out: { function: string; valueDelta: bigint }[] = [];
  for (const key of edges.current.keys()) {
    const [caller, callee] = key.split('\u0000') as [string, string];
    if (callee !== fn) continue;
    const d = edgeDelta(key, edges, expected);
    if (d > 0n) out.push({ function: caller, valueDelta: d });
  }
  return out
    .sort((a, b) =>
      a.valueDelta > b.valueDelta ? -1 : a.valueDelta < b.valueDelta ? 1 : a.function < b.function ? -1 : 1,
    )
    .slice(0, 5);
}

/** a / b as a number with 1e-12 resolution. */
function ratio(a: bigint, b: bigint): number {
  if (b === 0n) return 0;
  return Number((a * 1_000_000_000_000n) / b) / 1e12;
}
