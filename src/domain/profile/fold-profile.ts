import { boundedGunzip, DEFAULT_MAX_INFLATED_BYTES, isGzip } from './bounded-gunzip';
import { foldCpuProfile } from './cpuprofile.decoder';
import { foldFolded } from './folded.decoder';
import { foldJfr } from './jfr/jfr.decoder';
import { foldLegacyPprof, looksLikeLegacyPprof } from './legacy/legacy.decoder';
import { jsonFormat, sniffKind } from './format-sniffer';
import { foldPprof } from './pprof.decoder';
import { ProfileDecodeError } from './profile-decode.error';
import type { Fold, FoldOptions, ProfileFormat } from './profile.types';
import { foldSpeedscope } from './speedscope.decoder';

const utf8 = new TextDecoder('utf-8');

/**
 * Decodes one profile and folds it per function for one sample type. Pure: bytes in, Fold out.
 *
 * Formats: pprof protobuf (gzipped or not), JFR recordings, folded stacks, V8 `.cpuprofile`, speedscope JSON; gzip around any of
 * them is inflated first, refusing more than `maxInflatedBytes` (default 512 MiB). The format is sniffed unless
 * `options.format` says it. Throws ProfileDecodeError (format, byte offset or line, what was expected) on
 * malformed input.
 */
export function foldProfile(bytes: Uint8Array, options: FoldOptions = {}): Fold {
  const raw = isGzip(bytes) ? boundedGunzip(bytes, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES) : bytes;
  if (!options.format && sniffKind(raw).kind === 'json') return foldJson(parseJsonObject(raw, 'unknown'), options);
  const format = options.format ?? sniffFormat(raw);
  switch (format) {
    case 'pprof':
      if (looksLikeLegacyPprof(raw)) return foldLegacyPprof(raw, options);
      return foldPprof(raw, options);
    case 'jfr':
      return foldJfr(raw, options);
    case 'folded':
      return foldFolded(utf8.decode(raw), options);
    case 'cpuprofile':
      return foldCpuProfile(parseJsonObject(raw, 'cpuprofile'), options);
    case 'speedscope':
      return foldSpeedscope(parseJsonObject(raw, 'speedscope'), options);
  }
}

/** The chunk magic "FLR\0" of a JFR recording (a pprof protobuf never starts with it: 'F' is field 8, wire type 6). */
export function isJfr(raw: Uint8Array): boolean {
  return raw.length >= 4 && raw[0] === 0x46 && raw[1] === 0x4c && raw[2] === 0x52 && raw[3] === 0;
}

function foldJson(json: Record<string, unknown>, options: FoldOptions): Fold {
  const format = jsonFormat(json);
  if (format === 'cpuprofile') return foldCpuProfile(json, options);
  if (format === 'speedscope') return foldSpeedscope(json, options);
  throw new ProfileDecodeError(
    'unknown',
    'JSON input is neither a speedscope file ("$schema"/"shared"+"profiles") nor a V8 .cpuprofile ("nodes")',
  );
}

/** The format of uncompressed profile bytes, or a ProfileDecodeError saying what they look like. */
export function sniffFormat(raw: Uint8Array): ProfileFormat {
  const { kind } = sniffKind(raw);
  if (kind === 'binary') return isJfr(raw) ? 'jfr' : 'pprof';
  if (kind === 'text') return textFormat(raw);
  const format = jsonFormat(parseJsonObject(raw, 'unknown'));
  if (format) return format;
  throw new ProfileDecodeError(
    'unknown',
    'JSON input is neither a speedscope file ("$schema"/"shared"+"profiles") nor a V8 .cpuprofile ("nodes")',
  );
}

const FOLDED_LINE = /^[^\n]*\S[^\n]* [0-9]+\r?$/;
const LEGACY_TEXT =
  /^(--- ?(contention|heapz|heap|thread|goroutine)|heap ?profile|goroutine profile|threadcreate profile)/i;

function textFormat(raw: Uint8Array): ProfileFormat {
  if (looksLikeLegacyPprof(raw)) return 'pprof';
  const firstLine = firstNonBlankLine(raw);
  // Before the folded check: a cut legacy header such as `heap profile: 3: 6144 [ 3: 61` also reads as a folded line.
  if (LEGACY_TEXT.test(firstLine)) {
    throw new ProfileDecodeError(
      'pprof',
      `unrecognized legacy text pprof profile (first line ${JSON.stringify(firstLine.slice(0, 60))}); convert with \`go tool pprof -proto\``,
      { line: 1 },
    );
  }
  if (FOLDED_LINE.test(firstLine)) return 'folded';
  throw new ProfileDecodeError(
    'unknown',
    `text input is not folded stacks ("frame;frame COUNT" lines); first line: ${JSON.stringify(firstLine.slice(0, 80))}`,
    { line: 1 },
  );
}

/** The first line with a non-blank character, however long (a folded line of a deep stack can be megabytes). */
function firstNonBlankLine(raw: Uint8Array): string {
  let start = 0;
  while (start < raw.length && (raw[start] === 10 || raw[start] === 13 || raw[start] === 32 || raw[start] === 9))
    start++;
  while (start > 0 && raw[start - 1] !== 10) start--;
  const newline = raw.indexOf(10, start);
  return utf8.decode(raw.subarray(start, newline < 0 ? raw.length : newline));
}

function parseJsonObject(raw: Uint8Array, format: 'cpuprofile' | 'speedscope' | 'unknown'): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(raw));
  } catch (err: unknown) {
    throw new ProfileDecodeError(format, `invalid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ProfileDecodeError(format, 'expected a JSON object');
  return json as Record<string, unknown>;
}
