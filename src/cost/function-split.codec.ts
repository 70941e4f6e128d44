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

export type FunctionSplit = ReadonlyMap<number, FunctionAmount>;

const VERSION = 1;

/**
 * Encodes a split: version byte, count, then per function in ascending id order the id delta, self and
 * cum as unsigned LEB128 varints (exact for any non-negative bigint). The same split always gives the
 * same bytes, so an unchanged window rewrites identical rows.
 */
export function encodeFunctionSplit(split: FunctionSplit): Buffer {
  const ids = [...split.keys()].sort((a, b) => a - b);
  const out: number[] = [VERSION];
  writeVarint(out, BigInt(ids.length));
  let previous = 0;
  for (const id of ids) {
    const amount = split.get(id) as FunctionAmount;
    if (amount.self < 0n || amount.cum < 0n) throw new RangeError(`function ${id} has a negative amount`);
    writeVarint(out, BigInt(id - previous));
    writeVarint(out, amount.self);
    writeVarint(out, amount.cum);
    previous = id;
  }
  return Buffer.from(out);
}

/** Decodes `encodeFunctionSplit` output; throws naming the byte offset on anything else. */
export function decodeFunctionSplit(bytes: Uint8Array): Map<number, FunctionAmount> {
  if (bytes[0] !== VERSION) throw new RangeError(`function split: unsupported version ${bytes[0]} at byte 0`);
  const cursor = { pos: 1 };
  const count = Number(readVarint(bytes, cursor));
  const out = new Map<number, FunctionAmount>();
  let id = 0;
  for (let i = 0; i < count; i++) {
    id += Number(readVarint(bytes, cursor));
    out.set(id, { self: readVarint(bytes, cursor), cum: readVarint(bytes, cursor) });
  }
  if (cursor.pos !== bytes.length) throw new RangeError(`function split: ${bytes.length - cursor.pos} trailing bytes at byte ${cursor.pos}`);
  return out;
}

function writeVarint(out: number[], value: bigint): void {
  // Numbers below 2^31 take the cheap path: nearly every id delta and most amounts.
  if (value < 0x80000000n) {
    let v = Number(value);
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(v);
    return;
  }
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
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
