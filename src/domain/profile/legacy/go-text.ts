/**
 * The few Go standard-library text primitives that pprof's legacy parsers (google/pprof profile/legacy_profile.go,
 * legacy_java_profile.go) rely on, ported so that our parse takes the same decisions on the same bytes: strconv's
 * ParseInt/ParseUint (base 0 reads `0x`, `0o`, `0b` and a leading-0 octal), strings.TrimSpace, bufio.Scanner's
 * line splitting with its 64 KiB line limit, and strings.Replacer's leftmost, first-pair-wins replacement.
 * Written by hand because these are Go semantics, not something a JavaScript library reproduces.
 */

const utf8 = new TextDecoder('utf-8');

/** Go's `\s` in RE2: ASCII space, \t, \n, \f, \r (JavaScript's `\s` is wider). Use inside RegExp sources. */
export const GO_SPACE = '[\\t\\n\\f\\r ]';
/** Go's `\S`. */
export const GO_NON_SPACE = '[^\\t\\n\\f\\r ]';
/** Go's `[[:xdigit:]]`. */
export const GO_XDIGIT = '[0-9A-Fa-f]';

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

/** strconv.ParseUint(s, base, 64): the value, or null where Go returns an error (syntax or range). */
export function goParseUint(s: string, base: 0 | 10 | 16): bigint | null {
  if (s === '') return null;
  const s0 = s;
  const base0 = base === 0;
  let b: number = base;
  if (base0) {
    b = 10;
    if (s[0] === '0') {
      const p = s.length >= 3 ? s[1]!.toLowerCase() : '';
      if (p === 'b') [b, s] = [2, s.slice(2)];
      else if (p === 'o') [b, s] = [8, s.slice(2)];
      else if (p === 'x') [b, s] = [16, s.slice(2)];
      else [b, s] = [8, s.slice(1)];
    }
  }
  let n = 0n;
  let underscores = false;
  const bigBase = BigInt(b);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c === 0x5f && base0) {
      underscores = true;
      continue;
    } else if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) d = (c | 0x20) - 0x61 + 10;
    else return null;
    if (d >= b) return null;
    n = n * bigBase + BigInt(d);
    if (n > UINT64_MAX) return null;
  }
  if (underscores && !underscoreOK(s0)) return null;
  return n;
}

/** strconv.ParseInt(s, base, 64): the value, or null where Go returns an error. */
export function goParseInt(s: string, base: 0 | 10 | 16): bigint | null {
  if (s === '') return null;
  let neg = false;
  let rest = s;
  if (s[0] === '+') rest = s.slice(1);
  else if (s[0] === '-') [neg, rest] = [true, s.slice(1)];
  const un = goParseUint(rest, base);
  if (un === null) return null;
  const v = neg ? -un : un;
  return v > INT64_MAX || v < INT64_MIN ? null : v;
}

function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(s[1]!.toLowerCase())) {
    i = 2;
    saw = '0';
    hex = s[1]!.toLowerCase() === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && c.toLowerCase() >= 'a' && c.toLowerCase() <= 'f')) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** Wraps to int64 as Go's integer arithmetic does. */
export function int64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/** Wraps to uint64. */
export function uint64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

/** Go's int64(f) on amd64: truncation toward zero; NaN and out-of-range give the "integer indefinite" -2^63. */
export function int64OfFloat(f: number): bigint {
  if (!Number.isFinite(f) || f >= 9223372036854775808 || f < -9223372036854775808) return INT64_MIN;
  return BigInt(Math.trunc(f));
}

const GO_TRIM =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** strings.TrimSpace (Unicode White_Space; unlike String.prototype.trim it keeps U+FEFF). */
export function goTrimSpace(s: string): string {
  return s.replace(GO_TRIM, '');
}

/** bufio.Scanner's default maximum token size: a longer line stops the scan with ErrTooLong. */
export const MAX_SCAN_LINE = 64 * 1024;

/**
 * bufio.Scanner with ScanLines over bytes: `scan()` advances to the next line (without `\n` and a trailing `\r`),
 * `text` is that line, or '' once the scan has ended, as in Go. A line of 64 KiB or more ends the scan with
 * `tooLong` set (Go's ErrTooLong), which the parsers report as an error. `line` is the 1-based line number.
 */
export class LineScanner {
  text = '';
  line = 0;
  tooLong = false;
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    /** Line number of the first line (when scanning a tail of a larger input). */
    firstLine = 1,
  ) {
    this.line = firstLine - 1;
  }

  scan(): boolean {
    this.text = '';
    if (this.tooLong || this.pos >= this.bytes.length) return false;
    const nl = this.bytes.indexOf(10, this.pos);
    const end = nl < 0 ? this.bytes.length : nl;
    if (end - this.pos >= MAX_SCAN_LINE) {
      this.tooLong = true;
      return false;
    }
    let stop = end;
    if (stop > this.pos && this.bytes[stop - 1] === 13) stop--;
    this.text = utf8.decode(this.bytes.subarray(this.pos, stop));
    this.pos = nl < 0 ? this.bytes.length : nl + 1;
    this.line++;
    return true;
  }
}

/**
 * strings.NewReplacer(oldnew...).Replace: scans left to right; at each position the earliest pair whose old string
 * starts there wins; after a replacement the scan continues past it.
 */
export function goReplace(s: string, pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return s;
  let out = '';
  let i = 0;
  outer: while (i < s.length) {
    for (const [from, to] of pairs) {
      if (from !== '' && s.startsWith(from, i)) {
        out += to;
        i += from.length;
        continue outer;
      }
    }
    out += s[i];
    i++;
  }
  return out;
}

/** Decodes bytes as UTF-8 (invalid sequences become U+FFFD; pprof keeps raw bytes, names differ only there). */
export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
