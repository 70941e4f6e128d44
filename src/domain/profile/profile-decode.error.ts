/** Formats a decoder can report in an error; `gzip` is the envelope, `unknown` is what sniffing could not place. */
export type DecodeErrorFormat = 'pprof' | 'folded' | 'cpuprofile' | 'speedscope' | 'jfr' | 'gzip' | 'unknown';

/** Where in the input an error was found: a byte offset (binary formats) or a 1-based line (text formats). */
export interface DecodeErrorLocation {
  readonly offset?: number;
  readonly line?: number;
}

/**
 * A profile could not be decoded. `format` names the decoder, `offset` (bytes, into the inflated input when the
 * input was gzipped) or `line` (1-based) says where, and `message` says what was expected there.
 */
export class ProfileDecodeError extends Error {
  readonly format: DecodeErrorFormat;
  readonly offset: number | null;
  readonly line: number | null;
  /** The message without the format/location prefix. */
  readonly detail: string;

  constructor(format: DecodeErrorFormat, detail: string, where: DecodeErrorLocation = {}) {
    super(`${format}: ${detail}${describeLocation(where)}`);
    this.name = 'ProfileDecodeError';
    this.format = format;
    this.offset = where.offset ?? null;
    this.line = where.line ?? null;
    this.detail = detail;
  }
}

function describeLocation(where: DecodeErrorLocation): string {
  if (where.offset !== undefined) return ` (at byte ${where.offset})`;
  if (where.line !== undefined) return ` (at line ${where.line})`;
  return '';
}
