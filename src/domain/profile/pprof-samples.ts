import type { PprofIndex } from './pprof-index';
import type { LocationFrames } from './location-frames';
import type { PprofTables } from './pprof-tables';
import { ProtoCursor } from './proto-cursor';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Samples aggregated by (stack, label slice): the fold then walks each distinct stack once instead of once per
 * sample. Label-heavy profiles (one sample per request) have many samples but few distinct stacks per slice.
 *
 * Sums are float64 while the sum of |value| over all samples stays at most 2^53 - 1 (so every partial sum is exact);
 * otherwise they switch to bigint once.
 */
export class StackTable {
  count = 0;
  big = false;
  absSum = 0;
  /** Exact sum of |value| over samples once `big` (before that, `absSum` is exact). */
  absBig = 0n;
  hashes = new Int32Array(1024);
  stackStart = new Uint32Array(1024);
  stackLength = new Uint32Array(1024);
  sliceIds = new Int32Array(1024);
  /** Offset of the first sample that produced the entry, for error messages. */
  firstSample = new Uint32Array(1024);
  sums: Float64Array | bigint[] = new Float64Array(1024);
  arena = new Float64Array(16384);
  arenaLength = 0;
  private slots = new Int32Array(2048);

  /** Returns the entry for the stack in `ids[0..depth)` and slice, inserting it when new. */
  entry(ids: Float64Array, depth: number, hash: number, sliceId: number, sampleStart: number): number {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (true) {
      const e = this.slots[slot]! - 1;
      if (e < 0) break;
      if (this.hashes[e] === hash && this.sliceIds[e] === sliceId && this.sameStack(e, ids, depth)) return e;
      slot = (slot + 1) & mask;
    }
    const e = this.insert(ids, depth, hash, sliceId, sampleStart);
    if (this.count * 2 > this.slots.length) this.rehash();
    else this.slots[slot] = e + 1;
    return e;
  }

  addNumber(e: number, value: number): void {
    if (this.big) {
      this.addBig(e, BigInt(value));
      return;
    }
    // Compare before storing: subtracting `value` from a rounded sum would not give the exact sum back.
    const abs = this.absSum + (value < 0 ? -value : value);
    if (abs > MAX_SAFE) {
      this.addBig(e, BigInt(value));
      return;
    }
    this.absSum = abs;
    (this.sums as Float64Array)[e]! += value;
  }

  addBig(e: number, value: bigint): void {
    this.toBig();
    this.absBig += value < 0n ? -value : value;
    (this.sums as bigint[])[e]! += value;
  }

  /** Sum of |value| over all samples added: `go tool pprof`'s total. */
  absoluteTotal(): bigint {
    return this.big ? this.absBig : BigInt(this.absSum);
  }

  private sameStack(e: number, ids: Float64Array, depth: number): boolean {
    if (this.stackLength[e] !== depth) return false;
    const arena = this.arena;
    const start = this.stackStart[e]!;
    for (let i = 0; i < depth; i++) if (arena[start + i] !== ids[i]) return false;
    return true;
  }

  private insert(ids: Float64Array, depth: number, hash: number, sliceId: number, sampleStart: number): number {
    if (this.count === this.hashes.length) this.growEntries();
    while (this.arenaLength + depth > this.arena.length) {
      const next = new Float64Array(this.arena.length * 2);
      next.set(this.arena);
      this.arena = next;
    }
    const e = this.count++;
    const arena = this.arena;
    const at = this.arenaLength;
    for (let i = 0; i < depth; i++) arena[at + i] = ids[i]!;
    this.stackStart[e] = this.arenaLength;
    this.stackLength[e] = depth;
    this.arenaLength += depth;
    this.hashes[e] = hash;
    this.sliceIds[e] = sliceId;
    this.firstSample[e] = sampleStart;
    if (this.big) (this.sums as bigint[])[e] = 0n;
    return e;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.count; e++) {
      let slot = this.hashes[e]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
    this.slots = slots;
  }

  private growEntries(): void {
    const n = this.hashes.length * 2;
    this.hashes = grownInt32(this.hashes, n);
    this.sliceIds = grownInt32(this.sliceIds, n);
    this.stackStart = grownUint32(this.stackStart, n);
    this.stackLength = grownUint32(this.stackLength, n);
    this.firstSample = grownUint32(this.firstSample, n);
    if (this.big) return;
    const sums = new Float64Array(n);
    sums.set(this.sums as Float64Array);
    this.sums = sums;
  }

  private toBig(): void {
    if (this.big) return;
    this.big = true;
    this.absBig = BigInt(this.absSum);
    const sums: bigint[] = [];
    const old = this.sums as Float64Array;
    for (let e = 0; e < this.count; e++) sums.push(BigInt(old[e]!));
    this.sums = sums;
  }
}

/** An exact running sum of non-negative values: float64 while it stays at most 2^53 - 1, bigint past that. */
export class ExactSum {
  private small = 0;
  private big = 0n;

  add(value: number): void {
    // A rounded sum still compares correctly with 2^53 - 1, so the check never lets an inexact sum through.
    const next = this.small + value;
    if (next > MAX_SAFE) this.big += BigInt(value);
    else this.small = next;
  }

  addBig(value: bigint): void {
    this.big += value;
  }

  value(): bigint {
    return BigInt(this.small) + this.big;
  }
}

function grownInt32(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(n);
  next.set(a);
  return next;
}

function grownUint32(a: Uint32Array, n: number): Uint32Array<ArrayBuffer> {
  const next = new Uint32Array(n);
  next.set(a);
  return next;
}

/** A label value folded into `__other__` (its key has more values than the limit and it is not among the costliest). */
export const OTHER_VALUE = -2;

/**
 * Label keys that slice the fold, and the slices seen so far (as tuples of string indices, -1 = absent,
 * OTHER_VALUE = folded into `__other__`).
 */
export class LabelSlicer {
  readonly keyBytes: Uint8Array[];
  /** string index of a label key -> position in `keys` + 2, 1 for none, 0 for not looked up yet. */
  private readonly keyPosition: Int32Array;
  readonly values: Int32Array;
  /** slice id -> value string indices per key. */
  readonly sliceValues: Int32Array[] = [];
  /**
   * Per key position: the string indices of the values kept for a key over the cardinality limit (the others are
   * recorded as OTHER_VALUE), or null for a key within it.
   */
  admitted: (ReadonlySet<number> | null)[];
  /** Open-addressing table of slice id + 1 by hash of its values (0 = empty): no string key per sample. */
  private slots = new Int32Array(64);
  private sliceHashes = new Int32Array(32);

  constructor(
    readonly keys: readonly string[],
    private readonly tables: PprofTables,
  ) {
    const encoder = new TextEncoder();
    this.keyBytes = keys.map((k) => encoder.encode(k));
    this.values = new Int32Array(keys.length);
    this.keyPosition = new Int32Array(tables.stringCount);
    this.admitted = keys.map(() => null);
  }

  /** Position of the label key with string index `keyIdx` (in range) among the configured keys, or -1. */
  position(keyIdx: number): number {
    const known = this.keyPosition[keyIdx]!;
    if (known !== 0) return known - 2;
    const pos = this.keyBytes.findIndex((bytes) => this.tables.stringEquals(keyIdx, bytes));
    this.keyPosition[keyIdx] = pos + 2;
    return pos;
  }

  /** Slice id of the current `values` tuple (0 when there are no keys); ids are given in order of first sight. */
  currentSliceId(): number {
    const values = this.values;
    let hash = 0x811c9dc5 | 0;
    for (let k = 0; k < values.length; k++) hash = Math.imul(hash ^ values[k]!, 0x01000193);
    hash ^= hash >>> 13;
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (true) {
      const id = this.slots[slot]! - 1;
      if (id < 0) break;
      if (this.sliceHashes[id] === hash && sameValues(this.sliceValues[id]!, values)) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.sliceValues.length;
    this.sliceValues.push(values.slice());
    if (id === this.sliceHashes.length) this.sliceHashes = grownInt32(this.sliceHashes, 2 * id);
    this.sliceHashes[id] = hash;
    this.slots[slot] = id + 1;
    if (2 * this.sliceValues.length > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.sliceValues.length; id++) {
      let slot = this.sliceHashes[id]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
    }
    this.slots = slots;
  }
}

function sameValues(a: Int32Array, b: Int32Array): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Where the varint read by the last successful `shortVarint` ends (a module slot, so that nothing is allocated). */
let shortVarintEnd = 0;

/**
 * Decodes the varint at `pos` when it has at most 4 bytes (values below 2^28: ids and indices of all but
 * pathological profiles) and those bytes lie before `end`; sets `shortVarintEnd`. Returns -1 otherwise, and the
 * caller reads it with the cursor (which checks bounds and reports errors). Small, so it is inlined in the loops.
 */
function shortVarint(buf: Uint8Array, pos: number, end: number): number {
  let b = buf[pos]!;
  if (b < 0x80) {
    shortVarintEnd = pos + 1;
    return b;
  }
  if (pos + 3 >= end) return -1;
  let v = b & 0x7f;
  b = buf[pos + 1]!;
  v |= (b & 0x7f) << 7;
  if (b < 0x80) {
    shortVarintEnd = pos + 2;
    return v;
  }
  b = buf[pos + 2]!;
  v |= (b & 0x7f) << 14;
  if (b < 0x80) {
    shortVarintEnd = pos + 3;
    return v;
  }
  b = buf[pos + 3]!;
  if (b >= 0x80) return -1;
  shortVarintEnd = pos + 4;
  return v | (b << 21);
}

/** What one pass over the samples returns. */
export interface SampleScan {
  readonly table: StackTable;
  readonly sampleCount: number;
}

/**
 * Reads one sample at a time into reusable scratch (no allocation per sample): its location ids, a hash of them, the
 * value at `valueIndex` and (with a slicer) its slicing label values. Checks what pprof checks per sample: the value
 * count equals the number of sample types and label string indices are in range.
 */
export class SampleReader {
  /** Location ids of the current sample, leaf first, in `ids[0..depth)` (not filled when resolving, see `resolveWith`). */
  ids = new Float64Array(256);
  /** With `resolveWith`: frame codes (see LocationFrames) of the current sample's locations, leaf first, in `locs[0..depth)`. */
  locs = new Int32Array(256);
  depth = 0;
  /** FNV-1a style hash of the location ids (also when resolving: unknown ids included). */
  hash = 0;
  /** With `resolveWith`: the first location id of the current sample that is not in the profile, or -1. */
  unknownId = -1;
  /** The chosen value when it is at most 2^53 - 1; larger (or negative int64) values need `bigValue()`. */
  value = 0;
  private valueStart = -1;
  private readonly cur: ProtoCursor;
  private readonly buf: Uint8Array;
  private frames: LocationFrames | null = null;

  constructor(
    ix: PprofIndex,
    private readonly tables: PprofTables,
    private readonly valueIndex: number,
    private readonly valueCount: number,
    private readonly slicer: LabelSlicer | null,
  ) {
    this.cur = new ProtoCursor(ix.buf);
    this.buf = ix.buf;
  }

  /**
   * From now on, map location ids to frame codes while reading (into `locs`, unknown ids to `unknownId`) instead of
   * keeping the ids: the per-sample fold needs the codes (and the hash). `null` switches back to keeping ids.
   */
  resolveWith(frames: LocationFrames | null): void {
    this.frames = frames;
  }

  /** Reads the Sample message payload at [start, end). */
  read(start: number, end: number): void {
    const cur = this.cur;
    const buf = this.buf;
    const valueIndex = this.valueIndex;
    const frames = this.frames;
    cur.reset(start, end);
    let depth = 0;
    let hash = 0x811c9dc5 | 0;
    let values = 0;
    let value = 0;
    let valueStart = -1;
    this.unknownId = -1;
    if (this.slicer) this.slicer.values.fill(-1);
    while (cur.pos < end) {
      const tagStart = cur.pos;
      const tag = buf[tagStart]! < 0x80 ? buf[cur.pos++]! : cur.varint();
      if (tag === 10) {
        const fieldEnd = cur.lengthDelimitedEnd();
        if (frames) {
          this.hash = hash;
          depth = this.readResolvedIds(frames, fieldEnd, depth);
          hash = this.hash;
        } else {
          let pos = cur.pos;
          while (pos < fieldEnd) {
            let id = shortVarint(buf, pos, end);
            if (id >= 0) pos = shortVarintEnd;
            else {
              id = this.slowVarint(pos);
              pos = cur.pos;
            }
            hash = Math.imul(hash ^ (id | 0), 0x01000193);
            depth = this.addId(id, depth);
          }
          cur.pos = pos;
        }
        if (cur.pos !== fieldEnd) cur.fail('packed location ids to end at the field boundary', fieldEnd);
      } else if (tag === 18) {
        const fieldEnd = cur.lengthDelimitedEnd();
        while (cur.pos < fieldEnd) {
          const at = cur.pos;
          const v = cur.varint();
          if (values++ === valueIndex) {
            value = v;
            valueStart = at;
          }
        }
        if (cur.pos !== fieldEnd) cur.fail('packed values to end at the field boundary', fieldEnd);
      } else if (tag === 26) {
        readLabel(cur, this.tables, this.slicer);
      } else if (tag === 8) {
        const id = cur.varint();
        if (frames) {
          hash = Math.imul(hash ^ (id | 0), 0x01000193);
          depth = this.addResolved(frames, id, depth);
        } else {
          hash = Math.imul(hash ^ (id | 0), 0x01000193);
          depth = this.addId(id, depth);
        }
      } else if (tag === 16) {
        const at = cur.pos;
        const v = cur.varint();
        if (values++ === valueIndex) {
          value = v;
          valueStart = at;
        }
      } else {
        if (tag < 8 || tag >>> 3 <= 3)
          cur.fail(`a Sample field (location_id, value, label), found tag ${tag}`, tagStart);
        cur.skip(tag & 7);
      }
    }
    if (values !== this.valueCount) {
      cur.fail(`a sample with ${this.valueCount} values (one per sample type), found ${values}`, start);
    }
    this.depth = depth;
    this.hash = hash;
    this.value = value;
    this.valueStart = valueStart;
  }

  /**
   * Reads packed location ids up to `fieldEnd`, mapping each to its frame code into `locs` from `depth` on (unknown
   * ids go to `unknownId`); returns the new depth. The tightest loop of the fold: ids resolve through the dense
   * table of codes without a call per id.
   */
  private readResolvedIds(frames: LocationFrames, fieldEnd: number, depth: number): number {
    const cur = this.cur;
    const buf = this.buf;
    const end = cur.end;
    const codes = frames.codeById;
    let locs = this.locs;
    let pos = cur.pos;
    let hash = this.hash;
    while (pos < fieldEnd) {
      // Ids of one and two bytes (below 16384: nearly every location of a real profile) are decoded here, with
      // locals only; longer ones, and any that would run past the message, take the cursor.
      let id = buf[pos]!;
      if (id < 0x80) pos++;
      else {
        const b1 = pos + 1 < end ? buf[pos + 1]! : 0x80;
        if (b1 < 0x80) {
          id = (id & 0x7f) | (b1 << 7);
          pos += 2;
        } else {
          id = this.slowVarint(pos);
          pos = cur.pos;
        }
      }
      hash = Math.imul(hash ^ (id | 0), 0x01000193);
      const code = id < codes.length ? codes[id]! : frames.sparseCode(id);
      if (code === 0) {
        if (this.unknownId < 0) this.unknownId = id;
        continue;
      }
      if (depth === locs.length) locs = this.locs = grownInt32(locs, 2 * depth);
      locs[depth++] = code;
    }
    cur.pos = pos;
    this.hash = hash;
    return depth;
  }

  /** Reads the varint at `pos` with the cursor (bounds checks, errors, values past 2^28); `cur.pos` ends after it. */
  private slowVarint(pos: number): number {
    this.cur.pos = pos;
    return this.cur.varint();
  }

  /** One unpacked location id in resolve mode (rare: producers write packed ids). */
  private addResolved(frames: LocationFrames, id: number, depth: number): number {
    const code = id < frames.codeById.length ? frames.codeById[id]! : frames.sparseCode(id);
    if (code === 0) {
      if (this.unknownId < 0) this.unknownId = id;
      return depth;
    }
    if (depth === this.locs.length) this.locs = grownInt32(this.locs, 2 * depth);
    this.locs[depth] = code;
    return depth + 1;
  }

  private addId(id: number, depth: number): number {
    if (depth === this.ids.length) this.ids = grownFloat64(this.ids);
    this.ids[depth] = id;
    return depth + 1;
  }

  /** True when the value does not fit `value` exactly (past 2^53 - 1, or a negative int64). */
  isBig(): boolean {
    return this.value > MAX_SAFE;
  }

  /** The chosen value exactly, as a signed 64-bit bigint. */
  bigValue(): bigint {
    return BigInt.asIntN(64, this.cur.varintBigAt(this.valueStart));
  }
}

/**
 * Second pass (used when slicing): reads every sample's location ids, the value at `valueIndex` and its labels, and
 * aggregates them into a StackTable by (stack, slice).
 */
export function scanSamples(
  ix: PprofIndex,
  tables: PprofTables,
  valueIndex: number,
  valueCount: number,
  slicer: LabelSlicer | null,
): SampleScan {
  const reader = new SampleReader(ix, tables, valueIndex, valueCount, slicer);
  const table = new StackTable();
  const offsets = ix.samples.data;
  const n = ix.samples.length;
  for (let s = 0; s < n; s += 2) {
    const start = offsets[s]!;
    reader.read(start, offsets[s + 1]!);
    const sliceId = slicer ? slicer.currentSliceId() : 0;
    let hash = Math.imul(reader.hash ^ sliceId, 0x5bd1e995);
    hash ^= hash >>> 15;
    const e = table.entry(reader.ids, reader.depth, hash, sliceId, start);
    if (!reader.isBig()) table.addNumber(e, reader.value);
    else table.addBig(e, reader.bigValue());
  }
  return { table, sampleCount: n / 2 };
}

/** Reads one Label message; records its string value when the key is a configured slicing key. */
function readLabel(cur: ProtoCursor, tables: PprofTables, slicer: LabelSlicer | null): void {
  const end = cur.lengthDelimitedEnd();
  const outerEnd = cur.end;
  cur.end = end;
  let key = 0;
  let str = 0;
  let unit = 0;
  while (cur.pos < end) {
    const tag = cur.varint();
    if (tag === 8) key = cur.varint();
    else if (tag === 16) str = cur.varint();
    else if (tag === 32) unit = cur.varint();
    else if (tag < 8) cur.fail(`a Label field, found tag ${tag}`, cur.pos);
    else cur.skip(tag & 7);
  }
  cur.end = outerEnd;
  const count = tables.stringCount;
  if (key >= count || str >= count || unit >= count) {
    cur.fail(`label string indices below ${count} (key ${key}, str ${str}, num_unit ${unit})`, end);
  }
  if (slicer && str !== 0) {
    const pos = slicer.position(key);
    if (pos >= 0 && slicer.values[pos] === -1) {
      const admitted = slicer.admitted[pos];
      slicer.values[pos] = admitted === null || admitted!.has(str) ? str : OTHER_VALUE;
    }
  }
}

/**
 * For label keys over the cardinality limit: the `limit` values of each with the largest |value| summed over its
 * samples (ties: lower string index, i.e. first in the string table), read in one pass over the samples. Ranking
 * only, so a float sum is enough; the fold itself stays exact.
 */
export function costliestLabelValues(
  ix: PprofIndex,
  tables: PprofTables,
  valueIndex: number,
  valueCount: number,
  keys: readonly string[],
  limit: number,
): Set<number>[] {
  const slicer = new LabelSlicer(keys, tables);
  const reader = new SampleReader(ix, tables, valueIndex, valueCount, slicer);
  const sums = keys.map(() => new Map<number, number>());
  const offsets = ix.samples.data;
  for (let s = 0; s < ix.samples.length; s += 2) {
    reader.read(offsets[s]!, offsets[s + 1]!);
    const value = Math.abs(reader.isBig() ? Number(reader.bigValue()) : reader.value);
    for (let k = 0; k < keys.length; k++) {
      const v = slicer.values[k]!;
      if (v >= 0) sums[k]!.set(v, (sums[k]!.get(v) ?? 0) + value);
    }
  }
  return sums.map(
    (byValue) =>
      new Set(
        [...byValue]
          .sort((a, b) => b[1] - a[1] || a[0] - b[0])
          .slice(0, limit)
          .map(([v]) => v),
      ),
  );
}

/**
 * Counts distinct string values per configured label key, stopping at `limit + 1` per key (that is enough to know
 * the key is over the limit). Distinct means distinct string-table entries; producers deduplicate their tables.
 */
export function countLabelValues(
  ix: PprofIndex,
  tables: PprofTables,
  keys: readonly string[],
  limit: number,
): number[] {
  const slicer = new LabelSlicer(keys, tables);
  const seen = keys.map(() => new Set<number>());
  const cur = new ProtoCursor(ix.buf);
  const offsets = ix.samples.data;
  for (let s = 0; s < ix.samples.length; s += 2) {
    const end = offsets[s + 1]!;
    cur.reset(offsets[s]!, end);
    slicer.values.fill(-1);
    while (cur.pos < end) {
      const tag = cur.varint();
      if (tag === 26) readLabel(cur, tables, slicer);
      else if (tag < 8) cur.fail(`a Sample field, found tag ${tag}`, cur.pos);
      else cur.skip(tag & 7);
    }
    for (let k = 0; k < keys.length; k++) {
      const v = slicer.values[k]!;
      if (v >= 0 && seen[k]!.size <= limit) seen[k]!.add(v);
    }
  }
  return seen.map((set) => set.size);
}

function grownFloat64(a: Float64Array): Float64Array<ArrayBuffer> {
  const next = new Float64Array(a.length * 2);
  next.set(a);
  return next;
}
