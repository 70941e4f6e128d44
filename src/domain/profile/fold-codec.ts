import type { Fold, FunctionValue, LabelSlice, ValueType } from './profile.types';

/**
 * Binary encoding of a Fold for storage (PostgreSQL bytea): exact (bigints as zigzag varints of any size),
 * compact (function names once in a name table, slices refer to them), versioned ("FBF" + version byte).
 *
 * Version 1 layout, all integers as varints: magic, version, format, sampleType, sampleTypes, periodType?, period,
 * timeNanos, durationNanos, sampleCount, total, absoluteTotal?, names, functions, slices?, droppedLabelKeys?.
 */
const MAGIC = [0x46, 0x42, 0x46]; // "FBF"
const VERSION = 1;
// Append only: the index is stored.
const FORMATS: readonly Fold['format'][] = ['pprof', 'folded', 'cpuprofile', 'speedscope', 'jfr'];

/** Bytes that are not a serialized fold (or of an unknown version). */
export class FoldCodecError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`serialized fold: ${message} (at byte ${offset})`);
    this.name = 'FoldCodecError';
  }
}

/** Encodes a fold; `deserializeFold(serializeFold(f))` deep-equals `f`. */
export function serializeFold(fold: Fold): Uint8Array {
  const w = new Writer();
  for (const b of MAGIC) w.byte(b);
  w.byte(VERSION);
  w.uint(FORMATS.indexOf(fold.format));
  w.valueType(fold.sampleType);
  w.uint(fold.sampleTypes.length);
  fold.sampleTypes.forEach((t) => w.valueType(t));
  w.optional(fold.periodType, (t) => w.valueType(t));
  w.int(fold.period);
  w.int(fold.timeNanos);
  w.int(fold.durationNanos);
  w.uint(fold.sampleCount);
  w.int(fold.total);
  w.optional(fold.absoluteTotal, (t) => w.int(t));
  const names = nameTable(fold);
  w.uint(names.list.length);
  names.list.forEach((n) => w.string(n));
  w.functions(fold.functions, names.index);
  w.optional(fold.slices, (slices) => {
    w.uint(slices.length);
    for (const s of slices) {
      const entries = Object.entries(s.labels);
      w.uint(entries.length);
      for (const [k, v] of entries) {
        w.string(k);
        w.string(v);
      }
      w.int(s.total);
      w.functions(s.functions, names.index);
    }
  });
  w.optional(fold.droppedLabelKeys, (keys) => {
    w.uint(keys.length);
    keys.forEach((k) => w.string(k));
  });
  return w.bytes();
}

/** Decodes bytes written by `serializeFold`; throws FoldCodecError on anything else. */
export function deserializeFold(bytes: Uint8Array): Fold {
  const r = new Reader(bytes);
  for (const b of MAGIC) if (r.byte() !== b) throw new FoldCodecError('expected the "FBF" magic', 0);
  const version = r.byte();
  if (version !== VERSION) throw new FoldCodecError(`unsupported version ${version} (this build reads ${VERSION})`, 3);
  const format = FORMATS[r.uint()];
  if (!format) throw new FoldCodecError('unknown format code', r.pos);
  const sampleType = r.valueType();
  const sampleTypes = r.list(() => r.valueType());
  const periodType = r.optional(() => r.valueType()) ?? null;
  const period = r.int();
  const timeNanos = r.int();
  const durationNanos = r.int();
  const sampleCount = r.uint();
  const total = r.int();
  const absoluteTotal = r.optional(() => r.int());
  const names = r.list(() => r.string());
  const functions = r.functions(names);
  const slices = r.optional(() =>
    r.list((): LabelSlice => ({ labels: r.labels(), total: r.int(), functions: r.functions(names) })),
  );
  const droppedLabelKeys = r.optional(() => r.list(() => r.string()));
  if (r.pos !== bytes.length) throw new FoldCodecError('trailing bytes', r.pos);
  return {
    format,
    sampleType,
    sampleTypes,
    periodType,
    period,
    timeNanos,
    durationNanos,
    sampleCount,
    total,
    ...(absoluteTotal !== undefined ? { absoluteTotal } : {}),
    functions,
    ...(slices !== undefined ? { slices } : {}),
    ...(droppedLabelKeys !== undefined ? { droppedLabelKeys } : {}),
  };
}

function nameTable(fold: Fold): { list: string[]; index: Map<string, number> } {
  const index = new Map<string, number>();
  const list: string[] = [];
  const add = (fns: ReadonlyMap<string, FunctionValue>) => {
    for (const name of fns.keys()) {
      if (!index.has(name)) {
        index.set(name, list.length);
        list.push(name);
      }
    }
  };
  add(fold.functions);
  fold.slices?.forEach((s) => add(s.functions));
  return { list, index };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Zigzag values below this (in magnitude) are written with float arithmetic, which is exact below 2^53. */
const SAFE_ZIGZAG = 2n ** 51n;

/**
 * Grows one buffer and writes varints with number arithmetic where the value allows it: serializing the fold of a
 * 240 kB Go profile was ~19% of a push's CPU when every integer went through BigInt and every string through its
 * own TextEncoder allocation.
 */
class Writer {
  private buf = new Uint8Array(4096);
  private pos = 0;

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  uint(v: number | bigint): void {
    if (typeof v === 'number' && v <= Number.MAX_SAFE_INTEGER) this.uintNumber(v);
    else this.uintBig(BigInt(v));
  }

  /** Zigzag: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ... for integers of any size. */
  int(v: bigint): void {
    if (v < SAFE_ZIGZAG && v > -SAFE_ZIGZAG) {
      const n = Number(v);
      this.uintNumber(n >= 0 ? n * 2 : -n * 2 - 1);
    } else this.uintBig(v >= 0n ? v * 2n : -v * 2n - 1n);
  }

  string(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; encode in place after room for the longest length prefix, then
    // move the bytes down to where the actual prefix ends.
    const max = s.length * 3;
    this.reserve(8 + max);
    const at = this.pos + 5;
    const { written } = encoder.encodeInto(s, this.buf.subarray(at, at + max));
    this.uintNumber(written);
    if (this.pos !== at) this.buf.copyWithin(this.pos, at, at + written);
    this.pos += written;
  }

  valueType(t: ValueType): void {
    this.string(t.type);
    this.string(t.unit);
  }

  optional<T>(v: T | undefined | null, write: (v: T) => void): void {
    if (v === undefined || v === null) {
      this.byte(0);
      return;
    }
    this.byte(1);
    write(v);
  }

  functions(fns: ReadonlyMap<string, FunctionValue>, index: Map<string, number>): void {
    this.uint(fns.size);
    for (const [name, v] of fns) {
      this.uintNumber(index.get(name)!);
      this.int(v.flat);
      this.int(v.cum);
    }
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** A varint of a non-negative integer up to 2^53 - 1. */
  private uintNumber(n: number): void {
    this.reserve(8);
    const buf = this.buf;
    let pos = this.pos;
    while (n >= 0x80) {
      buf[pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[pos++] = n;
    this.pos = pos;
  }

  private uintBig(x: bigint): void {
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
}

class Reader {
  pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new FoldCodecError('unexpected end of input', this.pos);
    return this.buf[this.pos++]!;
  }

  uintBig(): bigint {
    const start = this.pos;
    let v = 0n;
    let shift = 0n;
    while (true) {
      const b = this.byte();
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
      if (shift > 7n * 64n) throw new FoldCodecError('varint too long', start);
    }
  }

  uint(): number {
    const start = this.pos;
    const v = this.uintBig();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FoldCodecError('count out of range', start);
    return Number(v);
  }

  int(): bigint {
    const z = this.uintBig();
    return z % 2n === 0n ? z / 2n : -(z + 1n) / 2n;
  }

  string(): string {
    const length = this.uint();
    if (this.pos + length > this.buf.length) throw new FoldCodecError('string runs past the end', this.pos);
    const s = decoder.decode(this.buf.subarray(this.pos, this.pos + length));
    this.pos += length;
    return s;
  }

  valueType(): ValueType {
    return { type: this.string(), unit: this.string() };
  }

  optional<T>(read: () => T): T | undefined {
    const flag = this.byte();
    if (flag > 1) throw new FoldCodecError('expected a presence flag (0 or 1)', this.pos - 1);
    return flag === 1 ? read() : undefined;
  }

  list<T>(read: () => T): T[] {
    const n = this.uint();
    if (n > this.buf.length - this.pos)
      throw new FoldCodecError(`list of ${n} entries cannot fit the remaining bytes`, this.pos);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read());
    return out;
  }

  labels(): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const [k, v] of this.list(() => [this.string(), this.string()] as const)) labels[k] = v;
    return labels;
  }

  functions(names: readonly string[]): Map<string, FunctionValue> {
    const fns = new Map<string, FunctionValue>();
    for (const [i, flat, cum] of this.list(() => [this.uint(), this.int(), this.int()] as const)) {
      const name = names[i];
      if (name === undefined) throw new FoldCodecError(`name index ${i} out of range`, this.pos);
      fns.set(name, { flat, cum });
    }
    return fns;
  }
}
