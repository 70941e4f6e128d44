import type { SplitArrays } from './function-split.codec';

/** Function ids per block row of `cost_function_day_blocks` (`block = function_id >> BLOCK_BITS`). */
export const BLOCK_BITS = 8;
/** Lines kept per day and board in `cost_function_day_tops`: the leaderboard API's largest limit. */
export const TOP_SIZE = 1000;
/** Largest value of a PostgreSQL bigint: the daily columns' limit, checked before it could wrap. */
const MAX_BIGINT = 2n ** 63n - 1n;

/** One service's money per function over a day: ascending function ids with self and inclusive sums. */
export interface DayServiceSplit {
  readonly ids: Int32Array;
  readonly self: BigInt64Array;
  readonly cum: BigInt64Array;
}

/** A block row: entries ordered by function id, then service id. */
export interface DayBlock {
  readonly block: number;
  readonly serviceIds: Int32Array;
  readonly functionIds: Int32Array;
  readonly self: BigInt64Array;
  readonly cum: BigInt64Array;
}

export type TopBoard = 'self' | 'inclusive' | 'cross-self' | 'cross-inclusive';

/** One line of a day's board list; `serviceId` null on cross-service boards, `services` 1 on per-service ones. */
export interface TopLine {
  readonly serviceId: number | null;
  readonly functionId: number;
  readonly self: bigint;
  readonly cum: bigint;
  readonly services: number;
}

/**
 * The daily function facts of one day in memory, per service id. `apply` folds one service's window change in
 * (exactly: bigint sums, a value past PostgreSQL's bigint range throws instead of wrapping) and remembers which
 * blocks it touched, so only those are rewritten.
 */
export class FunctionDayState {
  private readonly services = new Map<number, DayServiceSplit>();
  private readonly touched = new Set<number>();

  constructor(readonly day: string) {}

  /** A state holding every entry of `blocks` (as stored), nothing touched. */
  static fromBlocks(day: string, blocks: readonly DayBlock[]): FunctionDayState {
    const state = new FunctionDayState(day);
    const counts = new Map<number, number>();
    for (const b of blocks) for (const sid of b.serviceIds) counts.set(sid, (counts.get(sid) ?? 0) + 1);
    const fill = new Map<number, number>();
    for (const [sid, n] of counts) {
      state.services.set(sid, { ids: new Int32Array(n), self: new BigInt64Array(n), cum: new BigInt64Array(n) });
      fill.set(sid, 0);
    }
    // Blocks ascend by function id, so each service's entries arrive in ascending order.
    for (const b of [...blocks].sort((x, y) => x.block - y.block)) {
      for (let i = 0; i < b.serviceIds.length; i++) {
        const sid = b.serviceIds[i] as number;
        const split = state.services.get(sid) as DayServiceSplit;
        const at = fill.get(sid) as number;
        if (at > 0 && (split.ids[at - 1] as number) >= (b.functionIds[i] as number))
          throw new Error(`cost_function_day_blocks ${day}: service ${sid} function ${b.functionIds[i]} out of order`);
        split.ids[at] = b.functionIds[i] as number;
        split.self[at] = b.self[i] as bigint;
        split.cum[at] = b.cum[i] as bigint;
        fill.set(sid, at + 1);
      }
    }
    return state;
  }

  /** Number of (service, function) entries. */
  get pairs(): number {
    let n = 0;
    for (const s of this.services.values()) n += s.ids.length;
    return n;
  }

  /** Forgets the touched blocks (once they are written): the state as stored. */
  settle(): this {
    this.touched.clear();
    return this;
  }

  /** Blocks changed since the state was built (their rows must be rewritten; an absent block is deleted). */
  get touchedBlocks(): ReadonlySet<number> {
    return this.touched;
  }

  /**
   * Replaces service `serviceId`'s contribution `before` (its stored window split, null when none) by `after`:
   * day = day − before + after, entries that reach zero removed. Returns the number of entries whose amounts changed.
   */
  apply(serviceId: number, before: SplitArrays | null, after: SplitArrays | null): number {
    const day = this.services.get(serviceId) ?? EMPTY;
    const b = before ?? EMPTY_SPLIT;
    const a = after ?? EMPTY_SPLIT;
    const n = day.ids.length + b.ids.length + a.ids.length;
    const ids = new Int32Array(n);
    const self = new BigInt64Array(n);
    const cum = new BigInt64Array(n);
    let out = 0;
    let changed = 0;
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < day.ids.length || j < b.ids.length || k < a.ids.length) {
      const id = Math.min(at(day.ids, i), at(b.ids, j), at(a.ids, k));
      let s = 0n;
      let c = 0n;
      if (at(day.ids, i) === id) {
        s = day.self[i] as bigint;
        c = day.cum[i] as bigint;
        i++;
      }
      let ds = 0n;
      let dc = 0n;
      if (at(b.ids, j) === id) {
        ds -= b.self[j] as bigint;
        dc -= b.cum[j] as bigint;
        j++;
      }
      if (at(a.ids, k) === id) {
        ds += a.self[k] as bigint;
        dc += a.cum[k] as bigint;
        k++;
      }
      if (ds !== 0n || dc !== 0n) {
        changed++;
        this.touched.add(id >> BLOCK_BITS);
        s += ds;
        c += dc;
        if (s < 0n || c < 0n)
          throw new Error(
            `daily function facts of ${this.day}: service ${serviceId} function ${id} would fall below zero (stored splits and daily facts disagree)`,
          );
        if (s > MAX_BIGINT || c > MAX_BIGINT)
          throw new RangeError(
            `daily function facts of ${this.day}: service ${serviceId} function ${id} exceeds a bigint`,
          );
      }
      if (s === 0n && c === 0n) continue;
      ids[out] = id;
      self[out] = s;
      cum[out] = c;
      out++;
    }
    if (out === 0) this.services.delete(serviceId);
    else this.services.set(serviceId, { ids: ids.slice(0, out), self: self.slice(0, out), cum: cum.slice(0, out) });
    return changed;
  }

  /** The rows of `blocks` as they now are (entries by function id, then service id); blocks with no entry are left out. */
  blocks(blocks: ReadonlySet<number>): DayBlock[] {
    const services = [...this.services.keys()].sort((x, y) => x - y);
    let n = 0;
    let maxId = 0;
    for (const sid of services) {
      const ids = (this.services.get(sid) as DayServiceSplit).ids;
      for (let i = 0; i < ids.length; i++) {
        const fid = ids[i] as number;
        if (!blocks.has(fid >> BLOCK_BITS)) continue;
        n++;
        if (fid > maxId) maxId = fid;
      }
    }
    // Counting sort by function id over entries visited in ascending service order: stable, so ties on the
    // function id stay ordered by service id. Linear, with no object per entry.
    const starts = new Int32Array(maxId + 2);
    for (const sid of services) {
      const ids = (this.services.get(sid) as DayServiceSplit).ids;
      for (let i = 0; i < ids.length; i++)
        if (blocks.has((ids[i] as number) >> BLOCK_BITS)) starts[(ids[i] as number) + 1]++;
    }
    for (let f = 1; f < starts.length; f++) starts[f] = (starts[f] as number) + (starts[f - 1] as number);
    const sids = new Int32Array(n);
    const fids = new Int32Array(n);
    const self = new BigInt64Array(n);
    const cum = new BigInt64Array(n);
    for (const sid of services) {
      const split = this.services.get(sid) as DayServiceSplit;
      for (let i = 0; i < split.ids.length; i++) {
        const fid = split.ids[i] as number;
        if (!blocks.has(fid >> BLOCK_BITS)) continue;
        const to = starts[fid] as number;
        starts[fid] = to + 1;
        sids[to] = sid;
        fids[to] = fid;
        self[to] = split.self[i] as bigint;
        cum[to] = split.cum[i] as bigint;
      }
    }
    const out: DayBlock[] = [];
    for (let start = 0; start < n;) {
      const block = (fids[start] as number) >> BLOCK_BITS;
      let end = start + 1;
      while (end < n && (fids[end] as number) >> BLOCK_BITS === block) end++;
      out.push({
        block,
        serviceIds: sids.subarray(start, end),
        functionIds: fids.subarray(start, end),
        self: self.subarray(start, end),
        cum: cum.subarray(start, end),
      });
      start = end;
    }
    return out;
  }

  /**
   * The day's board lists: per board the first `size` lines by amount descending, then service id and function id
   * (cross-service boards: by function id, `services` the number of services with the function), and the number of
   * distinct functions.
   */
  tops(size = TOP_SIZE): { boards: Record<TopBoard, TopLine[]>; functions: number } {
    const bySelf = new TopList(size, 'self');
    const byCum = new TopList(size, 'cum');
    let maxId = -1;
    for (const split of this.services.values())
      if (split.ids.length > 0) maxId = Math.max(maxId, split.ids[split.ids.length - 1] as number);
    // Cross-service sums indexed by function id (ids are dense): no Map of millions of entries.
    const crossSelf = new BigInt64Array(maxId + 1);
    const crossCum = new BigInt64Array(maxId + 1);
    const services = new Int32Array(maxId + 1);
    for (const [sid, split] of this.services) {
      for (let i = 0; i < split.ids.length; i++) {
        const fid = split.ids[i] as number;
        const self = split.self[i] as bigint;
        const cum = split.cum[i] as bigint;
        bySelf.offer(sid, fid, self, cum, 1);
        byCum.offer(sid, fid, self, cum, 1);
        const x = (crossSelf[fid] as bigint) + self;
        const c = (crossCum[fid] as bigint) + cum;
        if (x > MAX_BIGINT || c > MAX_BIGINT)
          throw new RangeError(
            `daily function facts of ${this.day}: function ${fid} summed over services exceeds a bigint`,
          );
        crossSelf[fid] = x;
        crossCum[fid] = c;
        services[fid] = (services[fid] as number) + 1;
      }
    }
    const xSelf = new TopList(size, 'self');
    const xCum = new TopList(size, 'cum');
    let functions = 0;
    for (let fid = 0; fid <= maxId; fid++) {
      const n = services[fid] as number;
      if (n === 0) continue;
      functions++;
      xSelf.offer(null, fid, crossSelf[fid] as bigint, crossCum[fid] as bigint, n);
      xCum.offer(null, fid, crossSelf[fid] as bigint, crossCum[fid] as bigint, n);
    }
    return {
      boards: {
        self: bySelf.sorted(),
        inclusive: byCum.sorted(),
        'cross-self': xSelf.sorted(),
        'cross-inclusive': xCum.sorted(),
      },
      functions,
    };
  }
}

/** Order of board lines: amount descending, then service id (null first: cross boards have none), then function id. */
function before(a: TopLine, b: TopLine, column: 'self' | 'cum'): boolean {
  const x = a[column];
  const y = b[column];
  if (x !== y) return x > y;
  if (a.serviceId !== b.serviceId) return (a.serviceId ?? -1) < (b.serviceId ?? -1);
  return a.functionId < b.functionId;
}

/** The `size` first lines offered, in board order: a binary min-heap on the board order (worst line on top). */
class TopList {
  private readonly heap: TopLine[] = [];

  constructor(
    private readonly size: number,
    private readonly column: 'self' | 'cum',
  ) {}

  offer(serviceId: number | null, functionId: number, self: bigint, cum: bigint, services: number): void {
    const heap = this.heap;
    if (heap.length === this.size) {
      // Most lines lose against the current worst kept one: decide that without building the line.
      const worst = heap[0] as TopLine;
      if ((this.column === 'self' ? self : cum) < worst[this.column]) return;
      const line = { serviceId, functionId, self, cum, services };
      if (!before(line, worst, this.column)) return;
      heap[0] = line;
      this.down(0);
      return;
    }
    heap.push({ serviceId, functionId, self, cum, services });
    this.up(heap.length - 1);
  }

  sorted(): TopLine[] {
    return [...this.heap].sort((a, b) => (before(a, b, this.column) ? -1 : before(b, a, this.column) ? 1 : 0));
  }

  /** Heap order: the parent is the worse line. */
  private worse(i: number, j: number): boolean {
    return before(this.heap[j] as TopLine, this.heap[i] as TopLine, this.column);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < this.heap.length && this.worse(l, worst)) worst = l;
      if (r < this.heap.length && this.worse(r, worst)) worst = r;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i] as TopLine;
    this.heap[i] = this.heap[j] as TopLine;
    this.heap[j] = t;
  }
}

const EMPTY: DayServiceSplit = { ids: new Int32Array(0), self: new BigInt64Array(0), cum: new BigInt64Array(0) };
const EMPTY_SPLIT: SplitArrays = { ids: new Int32Array(0), self: [], cum: [] };

/** ids[i], or +∞ past the end (merge sentinel). */
function at(ids: Int32Array, i: number): number {
  return i < ids.length ? (ids[i] as number) : Number.POSITIVE_INFINITY;
}
