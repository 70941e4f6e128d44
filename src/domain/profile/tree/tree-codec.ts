import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { StackTree, type TreeFunction } from './stack-tree';

/** Thrown when stored tree bytes cannot be read. */
export class TreeCodecError extends Error {
  constructor(message: string) {
    super(`stack tree codec: ${message}`);
    this.name = 'TreeCodecError';
  }
}

const MAGIC = [0x46, 0x42, 0x54]; // "FBT"
const VERSION = 1;
const RAW = 0;
const DEFLATED = 1;
/** Payloads below this are stored raw: deflate's framing would outweigh the saving. */
const DEFLATE_MIN_BYTES = 256;

/**
 * Encodes a tree for storage, canonically: functions sorted by (name, file, start line), frames by (function, line),
 * nodes in depth-first pre-order with children sorted by frame, so equal trees encode to equal bytes whatever order
 * they were built or merged in. Layout (varints; signed values zigzag): magic "FBT", version, compression flag, then
 * the payload (raw-deflated when `compress` is not false and it is at least 256 bytes): sample type, period,
 * strings, functions as string ids and start line, frames as function id and line, and per node its frame, its
 * child count and its self value. Totals are not stored: decoding sums them in one pass.
 */
export function encodeTree(tree: StackTree, options: { readonly compress?: boolean } = {}): Uint8Array {
  const w = new ByteWriter();
  w.string(tree.sampleType.type);
  w.string(tree.sampleType.unit);
  w.signed(tree.period);
  const fnOrder = canonicalFunctions(tree.functions);
  const fnRank = new Int32Array(fnOrder.length);
  fnOrder.forEach((f, rank) => (fnRank[f] = rank));
  const strings = new Map<string, number>();
  for (const f of fnOrder)
    for (const s of [tree.functions[f]!.name, tree.functions[f]!.file])
      if (!strings.has(s)) strings.set(s, strings.size);
  w.uint(strings.size);
  for (const s of strings.keys()) w.string(s);
  w.uint(fnOrder.length);
  for (const f of fnOrder) {
    const fn = tree.functions[f]!;
    w.uint(strings.get(fn.name)!);
    w.uint(strings.get(fn.file)!);
    w.signed(BigInt(fn.startLine));
  }
  const frameOrder = Array.from(tree.frameFunction, (_, f) => f).sort(
    (a, b) =>
      fnRank[tree.frameFunction[a]!]! - fnRank[tree.frameFunction[b]!]! || tree.frameLine[a]! - tree.frameLine[b]!,
  );
  const frameRank = new Int32Array(frameOrder.length);
  frameOrder.forEach((f, rank) => (frameRank[f] = rank));
  w.uint(frameOrder.length);
  for (const f of frameOrder) {
    w.uint(fnRank[tree.frameFunction[f]!]!);
    w.signed(BigInt(tree.frameLine[f]!));
  }
  const { start, ids } = tree.children();
  w.uint(tree.nodeCount - 1);
  w.signed(tree.self[0] ?? 0n);
  w.uint(start[1]! - start[0]!);
  const sorted = (node: number): number[] => {
    const kids = Array.from(ids.subarray(start[node]!, start[node + 1]!));
    return kids.sort((a, b) => frameRank[tree.frame[a]!]! - frameRank[tree.frame[b]!]!);
  };
  const stack = sorted(0).reverse();
  while (stack.length > 0) {
    const i = stack.pop()!;
    w.uint(frameRank[tree.frame[i]!]!);
    w.uint(start[i + 1]! - start[i]!);
    w.signed(tree.self[i]!);
    const kids = sorted(i);
    for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]!);
  }
  const payload = w.bytes();
  const compress = options.compress !== false && payload.length >= DEFLATE_MIN_BYTES;
  const body = compress ? deflateRawSync(payload) : payload;
  const out = new Uint8Array(5 + body.length);
  out.set(MAGIC, 0);
  out[3] = VERSION;
  out[4] = compress ? DEFLATED : RAW;
  out.set(body, 5);
  return out;
}

/**
 * Decodes `encodeTree` bytes.
 * @throws TreeCodecError on bytes that are not a tree of a known version.
 */
export function decodeTree(bytes: Uint8Array): StackTree {
  if (bytes.length < 5 || bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1] || bytes[2] !== MAGIC[2])
    throw new TreeCodecError('not a stack tree (bad magic)');
  if (bytes[3] !== VERSION) throw new TreeCodecError(`unknown version ${bytes[3]}`);
  const payload = bytes[4] === DEFLATED ? inflateRawSync(bytes.subarray(5)) : bytes.subarray(5);
  const r = new ByteReader(payload);
  const sampleType = { type: r.string(), unit: r.string() };
  const period = r.signed();
  const strings: string[] = [];
  for (let n = r.uint(); n > 0; n--) strings.push(r.string());
  const functions: TreeFunction[] = [];
  for (let n = r.uint(); n > 0; n--)
    functions.push({ name: r.stringRef(strings), file: r.stringRef(strings), startLine: Number(r.signed()) });
  const frameCount = r.uint();
  const frameFunction = new Int32Array(frameCount);
  const frameLine = new Float64Array(frameCount);
  for (let f = 0; f < frameCount; f++) {
    frameFunction[f] = r.index(functions.length, 'function');
    frameLine[f] = Number(r.signed());
  }
  const n = r.uint() + 1;
  const parent = new Int32Array(n);
  const frame = new Int32Array(n);
  const self = new Array<bigint>(n);
  parent[0] = -1;
  frame[0] = -1;
  self[0] = r.signed();
  // Pre-order with child counts: a stack of (node, children still to read) gives each node its parent.
  const openNode: number[] = [0];
  const openLeft: number[] = [r.uint()];
  for (let i = 1; i < n; i++) {
    while (openLeft.length > 0 && openLeft[openLeft.length - 1] === 0) {
      openNode.pop();
      openLeft.pop();
    }
    if (openLeft.length === 0) throw new TreeCodecError(`node ${i} has no parent (child counts do not add up)`);
    openLeft[openLeft.length - 1]!--;
    parent[i] = openNode[openNode.length - 1]!;
    frame[i] = r.index(frameCount, 'frame');
    const kids = r.uint();
    self[i] = r.signed();
    openNode.push(i);
    openLeft.push(kids);
  }
  if (!r.done()) throw new TreeCodecError('trailing bytes after the last node');
  const total = self.slice();
  for (let i = n - 1; i > 0; i--) total[parent[i]!]! += total[i]!;
  return new StackTree(sampleType, period, functions, frameFunction, frameLine, parent, frame, self, total);
}

/** Function indices in (name, file, start line) order. */
function canonicalFunctions(functions: readonly TreeFunction[]): number[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return functions
    .map((_, i) => i)
    .sort((x, y) => {
      const a = functions[x]!;
      const b = functions[y]!;
      return cmp(a.name, b.name) || cmp(a.file, b.file) || a.startLine - b.startLine;
    });
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

class ByteWriter {
  private buf = new Uint8Array(4096);
  private length = 0;

  uint(v: number): void {
    this.ensure(10);
    let x = v;
    while (x >= 0x80) {
      this.buf[this.length++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.length++] = x;
  }

  /** Zigzag varint of a signed bigint (numbers while small: nearly every value). */
  signed(v: bigint): void {
    if (v >= -0x3fffffffn && v <= 0x3fffffffn) {
      const n = Number(v);
      this.uint(n >= 0 ? n * 2 : -n * 2 - 1);
      return;
    }
    let z = v >= 0n ? v * 2n : -v * 2n - 1n;
    this.ensure(20);
    while (z >= 0x80n) {
      this.buf[this.length++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.length++] = Number(z);
  }

  string(s: string): void {
    const bytes = utf8Encoder.encode(s);
    this.uint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

class ByteReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  uint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw new TreeCodecError('truncated varint');
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
      if (mul > 2 ** 49) throw new TreeCodecError('varint too long for an index');
    }
  }

  signed(): bigint {
    const start = this.pos;
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 4; k++) {
      if (this.pos >= this.buf.length) throw new TreeCodecError('truncated varint');
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return BigInt(v % 2 === 0 ? v / 2 : -(v + 1) / 2);
      mul *= 0x80;
    }
    // Long values (past 2^28) are read as bigints.
    this.pos = start;
    let z = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new TreeCodecError('truncated varint');
      const b = this.buf[this.pos++]!;
      z |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
      if (shift > 140n) throw new TreeCodecError('varint too long');
    }
    return (z & 1n) === 0n ? z >> 1n : -((z + 1n) >> 1n);
  }

  string(): string {
    const n = this.uint();
    if (this.pos + n > this.buf.length) throw new TreeCodecError('truncated string');
    const s = utf8Decoder.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  stringRef(strings: readonly string[]): string {
    return strings[this.index(strings.length, 'string')]!;
  }

  index(count: number, what: string): number {
    const i = this.uint();
    if (i >= count) throw new TreeCodecError(`${what} ${i} out of range (${count})`);
    return i;
  }

  done(): boolean {
    return this.pos === this.buf.length;
  }
}
