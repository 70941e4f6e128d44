import type { FunctionValue, LabelSlice } from './profile.types';

type Value = number | bigint;

/** Per-slice sparse totals: node id -> value. Slices see few of the functions, so maps beat dense arrays here. */
class SliceTotals {
  readonly flat = new Map<number, Value>();
  readonly cum = new Map<number, Value>();
  total: Value = 0;

  constructor(readonly labels: Readonly<Record<string, string>>) {}
}

/**
 * Accumulates flat and cum per function name with `go tool pprof -top` semantics: flat goes to the leaf node of a
 * stack, cum adds the value once per distinct node per stack (recursion counts once).
 *
 * Values are summed as plain numbers while the sum of absolute values stays below 2^53 (then every partial sum is
 * exact); past that, or on the first bigint value, everything switches to bigint once and stays exact.
 */
export class FoldAccumulator {
  private readonly names: string[] = [];
  private readonly nodeIds = new Map<string, number>();
  private flat: Value[] = [];
  private cum: Value[] = [];
  private stamp = new Int32Array(1024);
  private epoch = 0;
  private big = false;
  private absSum = 0;
  private total: Value = 0;
  private absTotal: Value = 0;
  private readonly slices = new Map<string, SliceTotals>();
  private scratch = new Int32Array(256);

  /** Returns the node id of a function name, creating it on first sight. */
  intern(name: string): number {
    let id = this.nodeIds.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.nodeIds.set(name, id);
      this.flat.push(this.big ? 0n : 0);
      this.cum.push(this.big ? 0n : 0);
      if (id >= this.stamp.length) this.growStamp();
    }
    return id;
  }

  /** Returns the slice for a canonical label record, creating it on first sight. */
  slice(labels: Readonly<Record<string, string>>): SliceTotals {
    const key = canonicalLabelKey(labels);
    let slice = this.slices.get(key);
    if (!slice) {
      slice = new SliceTotals(labels);
      if (this.big) slice.total = 0n;
      this.slices.set(key, slice);
    }
    return slice;
  }

  /** Adds `value` for a stack given as node ids, leaf first (`nodes[0]` is the leaf). */
  add(nodes: ArrayLike<number>, length: number, value: Value, slice?: SliceTotals): void {
    if (!this.big) {
      if (typeof value === 'bigint' || !Number.isSafeInteger(value)) this.toBig();
      else {
        this.absSum += value < 0 ? -value : value;
        if (this.absSum > Number.MAX_SAFE_INTEGER) this.toBig();
      }
    }
    const v: Value = this.big ? BigInt(value) : value;
    this.addTotals(v, slice);
    if (length === 0) return;
    const epoch = ++this.epoch;
    const stamp = this.stamp;
    const cum = this.cum as number[];
    for (let i = 0; i < length; i++) {
      const node = nodes[i]!;
      if (stamp[node] === epoch) continue;
      stamp[node] = epoch;
      cum[node] = (cum[node] as number) + (v as number);
      if (slice) slice.cum.set(node, ((slice.cum.get(node) ?? zero(this.big)) as number) + (v as number));
    }
    const leaf = nodes[0]!;
    (this.flat as number[])[leaf] = (this.flat[leaf] as number) + (v as number);
    if (slice) slice.flat.set(leaf, ((slice.flat.get(leaf) ?? zero(this.big)) as number) + (v as number));
  }

  /**
   * `add` for one sample given as frame codes (`codes[0..length)`, leaf first; see LocationFrames: `node + 1` for a
   * location with one frame, `-(loc + 1)` for one whose frames are the node ids
   * `nodeIds[nodeStart[loc]..nodeStart[loc + 1])`), with a value that is a safe integer. Walks the frames in place
   * instead of expanding them into a node list first: this is the per-sample loop of a fold without slices.
   */
  addLocations(codes: Int32Array, length: number, nodeStart: Int32Array, nodeIds: Int32Array, value: number): void {
    if (!this.big) {
      this.absSum += value < 0 ? -value : value;
      if (this.absSum > Number.MAX_SAFE_INTEGER) this.toBig();
    }
    if (this.big) {
      this.addLocationsBig(codes, length, nodeStart, nodeIds, BigInt(value));
      return;
    }
    this.total = (this.total as number) + value;
    this.absTotal = (this.absTotal as number) + (value < 0 ? -value : value);
    if (length === 0) return;
    const epoch = ++this.epoch;
    const stamp = this.stamp;
    const cum = this.cum as number[];
    for (let i = 0; i < length; i++) {
      const code = codes[i]!;
      if (code > 0) {
        const node = code - 1;
        if (stamp[node] === epoch) continue;
        stamp[node] = epoch;
        cum[node] = cum[node]! + value;
        continue;
      }
      const loc = -code - 1;
      const to = nodeStart[loc + 1]!;
      for (let j = nodeStart[loc]!; j < to; j++) {
        const node = nodeIds[j]!;
        if (stamp[node] === epoch) continue;
        stamp[node] = epoch;
        cum[node] = cum[node]! + value;
      }
    }
    const leaf = leafNode(codes[0]!, nodeStart, nodeIds);
    (this.flat as number[])[leaf] = (this.flat[leaf] as number) + value;
  }

  /** `addLocations` for a value that needs bigint (past 2^53, negative int64, or once the sums went bigint). */
  addLocationsBig(codes: Int32Array, length: number, nodeStart: Int32Array, nodeIds: Int32Array, value: bigint): void {
    let n = 0;
    for (let i = 0; i < length; i++) {
      const code = codes[i]!;
      n += code > 0 ? 1 : nodeStart[-code]! - nodeStart[-code - 1]!;
    }
    if (n > this.scratch.length) this.scratch = new Int32Array(Math.max(n, this.scratch.length * 2));
    const nodes = this.scratch;
    n = 0;
    for (let i = 0; i < length; i++) {
      const code = codes[i]!;
      if (code > 0) nodes[n++] = code - 1;
      else for (let j = nodeStart[-code - 1]!; j < nodeStart[-code]!; j++) nodes[n++] = nodeIds[j]!;
    }
    this.add(nodes, n, value);
  }

  /** Totals, functions and slices as the contract's bigint values; functions with flat = cum = 0 are left out, as pprof does. */
  result(): { total: bigint; absoluteTotal: bigint; functions: Map<string, FunctionValue>; slices: LabelSlice[] } {
    const functions = new Map<string, FunctionValue>();
    for (let node = 0; node < this.names.length; node++) {
      const flat = BigInt(this.flat[node]!);
      const cum = BigInt(this.cum[node]!);
      if (flat !== 0n || cum !== 0n) functions.set(this.names[node]!, { flat, cum });
    }
    const slices: LabelSlice[] = [];
    for (const slice of this.slices.values()) slices.push(this.sliceResult(slice));
    slices.sort((a, b) => compareLabels(a.labels, b.labels));
    return { total: BigInt(this.total), absoluteTotal: BigInt(this.absTotal), functions, slices };
  }

  private sliceResult(slice: SliceTotals): LabelSlice {
    const functions = new Map<string, FunctionValue>();
    for (const [node, cumValue] of slice.cum) {
      const flat = BigInt(slice.flat.get(node) ?? 0);
      const cum = BigInt(cumValue);
      if (flat !== 0n || cum !== 0n) functions.set(this.names[node]!, { flat, cum });
    }
    return { labels: slice.labels, total: BigInt(slice.total), functions };
  }

  private addTotals(v: Value, slice: SliceTotals | undefined): void {
    if (this.big) {
      const b = v as bigint;
      this.total = (this.total as bigint) + b;
      this.absTotal = (this.absTotal as bigint) + (b < 0n ? -b : b);
      if (slice) slice.total = (slice.total as bigint) + b;
    } else {
      const n = v as number;
      this.total = (this.total as number) + n;
      this.absTotal = (this.absTotal as number) + (n < 0 ? -n : n);
      if (slice) slice.total = (slice.total as number) + n;
    }
  }

  private toBig(): void {
    if (this.big) return;
    this.big = true;
    this.flat = this.flat.map((v) => BigInt(v));
    this.cum = this.cum.map((v) => BigInt(v));
    this.total = BigInt(this.total);
    this.absTotal = BigInt(this.absTotal);
    for (const slice of this.slices.values()) {
      slice.total = BigInt(slice.total);
      for (const [k, v] of slice.flat) slice.flat.set(k, BigInt(v));
      for (const [k, v] of slice.cum) slice.cum.set(k, BigInt(v));
    }
  }

  private growStamp(): void {
    const next = new Int32Array(this.stamp.length * 2);
    next.set(this.stamp);
    this.stamp = next;
  }
}

/** The leaf node of a frame code: the node itself, or the first (leaf-most) frame of a multi-frame location. */
function leafNode(code: number, nodeStart: Int32Array, nodeIds: Int32Array): number {
  return code > 0 ? code - 1 : nodeIds[nodeStart[-code - 1]!]!;
}

function zero(big: boolean): Value {
  return big ? 0n : 0;
}

/** A stable string for a label record: keys sorted, JSON-encoded so no separator can collide. */
export function canonicalLabelKey(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort(compareStrings);
  return JSON.stringify(keys.map((k) => [k, labels[k]]));
}

/** Orders label records by their sorted (key, value) pairs; `{}` comes first. */
export function compareLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): number {
  const pa = Object.keys(a)
    .sort(compareStrings)
    .flatMap((k) => [k, a[k]!]);
  const pb = Object.keys(b)
    .sort(compareStrings)
    .flatMap((k) => [k, b[k]!]);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = compareStrings(pa[i]!, pb[i]!);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

/** Code-unit order, independent of locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
