/**
 * One service-window's money per function (self and inclusive micro-units), keyed by `cost_functions.id`.
 * Stored as one `cost_function_splits` row per (window, service) instead of one row per function: at
 * 2,000 functions per service a row per function costs ~105 bytes and ~12 µs to write, the split ~9 bytes
 * per function (docs/data-model.md has the measurements).
 */
export interface FunctionAmount {
  readonly self: bigint;
  readonly cum: bigint;
}

/** A split as parallel arrays in ascending id order (no object per function: millions per window at scale). */
export interface SplitArrays {
  readonly ids: Int32Array;
  readonly self: readonly bigint[];
  readonly cum: readonly bigint[];
}

const VERSION = 1;
/** Values below this are written through 32-bit number arithmetic. */
const SMALL = 0x80000000n;

/**
 * Encodes a split given in ascending id order: version byte, count, then per function the id delta, self and cum
 * as unsigned LEB128 varints (exact for any non-negative bigint). The same split always gives the same bytes, so
 * an unchanged window rewrites identical rows.
 */
export function encodeSplitArrays(split: SplitArrays): Buffer {
  const n = split.ids.length;
  const out = new Writer(16 + n * 12);
  out.byte(VERSION);
  out.small(n);
  let previous = 0;
  for (let i = 0; i < n; i++) {
    const id = split.ids[i] as number;
    const self = split.self[i] as bigint;
    const cum = split.cum[i] as bigint;
    if (self < 0n || cum < 0n) throw new RangeError(`function ${id} has a negative amount`);
    if (id <= previous && i > 0) throw new RangeError(`function ids not ascending at ${id}`);
    out.small(id - previous);
    out.varint(self);
    out.varint(cum);
    previous = id;
  }
  return out.done();
}

/** Decodes `encodeSplitArrays` output; throws naming the byte offset on anything else. */
export function decodeFunctionSplit(bytes: Uint8Array): Map<number, FunctionAmount> {
  const split = decodeSplitArrays(bytes);
  const out = new Map<number, FunctionAmount>();
  for (let i = 0; i < split.ids.length; i++)
    out.set(split.ids[i] as number, { self: split.self[i] as bigint, cum: split.cum[i] as bigint });
  return out;
}

/** `decodeFunctionSplit` as parallel arrays in ascending id order. */
export function decodeSplitArrays(bytes: Uint8Array): SplitArrays {
  if (bytes[0] !== VERSION) throw new RangeError(`function split: unsupported version ${bytes[0]} at byte 0`);
  const cursor = { pos: 1 };
  const count = Number(readVarint(bytes, cursor));
  if (count > bytes.length)
    throw new RangeError(`function split: count ${count} cannot fit ${bytes.length} bytes at byte 1`);
  const ids = new Int32Array(count);
  const self: bigint[] = new Array<bigint>(count);
  const cum: bigint[] = new Array<bigint>(count);
  let id = 0;
  for (let i = 0; i < count; i++) {
    id += Number(readVarint(bytes, cursor));
    ids[i] = id;
    self[i] = readVarint(bytes, cursor);
    cum[i] = readVarint(bytes, cursor);
  }
  if (cursor.pos !== bytes.length)
    throw new RangeError(`function split: ${bytes.length - cursor.pos} trailing bytes at byte ${cursor.pos}`);
  return { ids, self, cum };
}

/** Appends LEB128 varints to a growing buffer. */
class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  byte(b: number): void {
    if (this.pos === this.buf.length) this.grow();
    this.buf[this.pos++] = b;
  }

  /** A non-negative number below 2^31. */
  small(v: number): void {
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    this.byte(v);
  }

  varint(value: bigint): void {
    // Numbers below 2^31 take the cheap path: nearly every id delta and most amounts.
    if (value < SMALL) return this.small(Number(value));
    let v = value;
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  private grow(): void {
    const next = Buffer.allocUnsafe(this.buf.length * 2 + 16);
    this.buf.copy(next);
    this.buf = next;
  }
}

function readVarint(bytes: Uint8Array, cursor: { pos: number }): bigint {
  // The first four bytes (28 bits) accumulate in a number; only larger values pay for bigint shifts.
  let small = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    const b = nextByte(bytes, cursor);
    small |= (b & 0x7f) << shift;
    if (b < 0x80) return BigInt(small);
  }
  let result = BigInt(small);
  for (let shift = 28n; ; shift += 7n) {
    const b = nextByte(bytes, cursor);
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return result;
  }
}

function nextByte(bytes: Uint8Array, cursor: { pos: number }): number {
  if (cursor.pos >= bytes.length) throw new RangeError(`function split: truncated varint at byte ${cursor.pos}`);
  return bytes[cursor.pos++] as number;
}
