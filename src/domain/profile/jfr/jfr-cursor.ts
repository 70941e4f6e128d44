import { ProfileDecodeError } from '../profile-decode.error';

/**
 * A constant-pool key: the id as a number when it is a safe integer, else its decimal string (JFR ids are uint64;
 * async-profiler and some JDKs use hashes past 2^53 for stack trace ids).
 */
export type JfrId = number | string;

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/**
 * A cursor over JFR bytes. JFR integers are LEB128 varints when the chunk says "compressed integers" (every JDK
 * since 11 and async-profiler), else fixed-width big-endian; every bounds failure is a ProfileDecodeError naming the
 * byte offset, so truncated or flipped input never reads past the buffer.
 */
export class JfrCursor {
  pos = 0;
  /** Exclusive end of what may be read: the current chunk or event. */
  end: number;
  compressed = true;
  private readonly view: DataView;

  constructor(readonly buf: Uint8Array) {
    this.end = buf.length;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(expected: string, at: number = this.pos): never {
    throw new ProfileDecodeError('jfr', `expected ${expected}`, { offset: at });
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('a byte, found the end of the data');
    return this.buf[this.pos++]!;
  }

  /**
   * A JFR `int`/`short`/`char` (or a size/count) as an unsigned 32-bit number. Like the JDK's reader, it reads a
   * whole long varint and keeps the low 32 bits: the JDK pads some sizes to 8-byte varints (`d9 83 80 80 80 80 80 00`).
   */
  int(): number {
    if (!this.compressed) {
      this.need(4);
      const v = this.view.getUint32(this.pos);
      this.pos += 4;
      return v;
    }
    const fast = this.varint28();
    if (fast >= 0) return fast;
    const buf = this.buf;
    let pos = this.pos;
    let value = 0;
    for (let i = 0; i < 9; i++) {
      if (pos >= this.end) this.fail('a varint, found the end of the data', pos);
      const b = buf[pos++]!;
      if (i < 5) value += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80 || i === 8) {
        this.pos = pos;
        return value > 0xffffffff ? value % 0x100000000 : value;
      }
    }
    /* c8 ignore next */
    this.fail('a varint');
  }

  /** A JFR `long` as a number when it is a safe integer, else as a bigint (unsigned 64-bit). */
  long(): number | bigint {
    if (!this.compressed) {
      this.need(8);
      const v = this.view.getBigUint64(this.pos);
      this.pos += 8;
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    const fast = this.varint28();
    if (fast >= 0) return fast;
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    // JFR's LEB128 long: up to 8 bytes of 7 bits, and a 9th byte of 8 bits. Bytes 0-3 and 4-7 are gathered in two
    // int32 halves of 28 bits (no float work per byte); timestamps, the first field of every event, take 6-8 bytes.
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 9; i++) {
      if (pos >= this.end) this.fail('a varint, found the end of the data', pos);
      const b = buf[pos++]!;
      if (i === 8) {
        this.pos = pos;
        return this.longBig(start);
      }
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else hi |= (b & 0x7f) << (7 * (i - 4));
      if (b < 0x80) {
        this.pos = pos;
        // hi below 2^25: the value is below 2^53, exact as a float.
        return hi < 0x2000000 ? lo + hi * 0x10000000 : this.longBig(start);
      }
    }
    /* c8 ignore next */
    this.fail('a varint');
  }

  /** Skips a varint of up to 9 bytes (or a fixed-width integer of `width` bytes) without computing its value. */
  skipInt(width: 2 | 4 | 8): void {
    if (!this.compressed) {
      this.skip(width);
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    const end = Math.min(this.end, pos + 9);
    while (pos < end) {
      if (buf[pos++]! < 0x80) {
        this.pos = pos;
        return;
      }
    }
    if (pos - this.pos < 9) this.fail('a varint, found the end of the data', pos);
    this.pos = pos; // a 9-byte long: its last byte holds 8 bits, whatever its top bit
  }

  /**
   * The hot path of `int` and `long`: a varint of at most 4 bytes (ids, line numbers, sizes below 2^28) in int32
   * arithmetic, or -1 to take the general path (longer, or too close to the end to read 4 bytes unchecked).
   * Varint decoding was 40% of a JFR fold before this.
   */
  private varint28(): number {
    const pos = this.pos;
    if (pos + 4 > this.end) return -1;
    const buf = this.buf;
    let b = buf[pos]!;
    if (b < 0x80) {
      this.pos = pos + 1;
      return b;
    }
    let v = b & 0x7f;
    b = buf[pos + 1]!;
    if (b < 0x80) {
      this.pos = pos + 2;
      return v | (b << 7);
    }
    v |= (b & 0x7f) << 7;
    b = buf[pos + 2]!;
    if (b < 0x80) {
      this.pos = pos + 3;
      return v | (b << 14);
    }
    v |= (b & 0x7f) << 14;
    b = buf[pos + 3]!;
    if (b < 0x80) {
      this.pos = pos + 4;
      return v | (b << 21);
    }
    return -1;
  }

  /** A long that must fit a safe integer (sizes, offsets, counts, event values). */
  safeLong(what: string): number {
    const at = this.pos;
    const v = this.long();
    if (typeof v === 'bigint') this.fail(`${what} below 2^53, found ${v}`, at);
    return v;
  }

  /** A signed 64-bit long (two's complement) as a number; checkpoint deltas are negative. */
  signedLong(what: string): number {
    const at = this.pos;
    const v = this.long();
    if (typeof v === 'number') return v;
    const signed = BigInt.asIntN(64, v);
    if (signed < BigInt(Number.MIN_SAFE_INTEGER) || signed > BigInt(Number.MAX_SAFE_INTEGER))
      this.fail(`${what} within ±2^53, found ${signed}`, at);
    return Number(signed);
  }

  /** A constant-pool id. */
  id(): JfrId {
    const v = this.long();
    return typeof v === 'number' ? v : v.toString();
  }

  /** Big-endian fixed-width unsigned integer of `bytes` bytes (chunk header fields). */
  fixed(bytes: 4 | 8): number {
    this.need(bytes);
    const v = bytes === 4 ? this.view.getUint32(this.pos) : Number(this.view.getBigUint64(this.pos));
    this.pos += bytes;
    return v;
  }

  skip(bytes: number): void {
    this.need(bytes);
    this.pos += bytes;
  }

  /**
   * A JFR string: encoding 0 null, 1 empty, 2 constant-pool reference, 3 UTF-8, 4 char array, 5 Latin-1. A reference
   * is resolved through `lookup` (the chunk's java.lang.String pool).
   */
  string(lookup?: (id: JfrId) => string): string {
    const at = this.pos;
    const encoding = this.u8();
    switch (encoding) {
      case 0:
      case 1:
        return '';
      case 2: {
        const id = this.id();
        return lookup ? lookup(id) : '';
      }
      case 3:
      case 5: {
        const length = this.int();
        this.need(length);
        const bytes = this.buf.subarray(this.pos, this.pos + length);
        this.pos += length;
        return (encoding === 3 ? utf8 : latin1).decode(bytes);
      }
      case 4: {
        const length = this.int();
        if (length > this.end - this.pos) this.fail(`a char array of ${length} chars within the data`, at);
        const codes: number[] = new Array<number>(length);
        for (let i = 0; i < length; i++) codes[i] = this.int() & 0xffff;
        let text = '';
        // In slices: spreading a long array into one call overflows the stack.
        for (let i = 0; i < length; i += 4096) text += String.fromCharCode(...codes.slice(i, i + 4096));
        return text;
      }
      default:
        this.fail(`a string encoding (0-5), found ${encoding}`, at);
    }
  }

  /** Throws unless `count` items of at least one byte each can still be read: keeps corrupt counts from looping. */
  checkCount(count: number, what: string): void {
    if (count > this.end - this.pos) this.fail(`${what} (${count}) within the ${this.end - this.pos} bytes left`);
  }

  private need(bytes: number): void {
    if (bytes > this.end - this.pos) this.fail(`${bytes} more bytes, found ${Math.max(0, this.end - this.pos)}`);
  }

  private longBig(start: number): number | bigint {
    let value = 0n;
    let pos = start;
    for (let i = 0; i < 9; i++) {
      const b = this.buf[pos++]!;
      if (i === 8) {
        value |= BigInt(b) << 56n;
        break;
      }
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) break;
    }
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
}
