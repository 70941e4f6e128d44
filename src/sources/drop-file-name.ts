/**
 * How a directory-drop file name says which service and window it holds. Pure: strings in, values out.
 */

/** What a matching file name says. */
export interface DropFileName {
  readonly service: string;
  readonly start: Date;
  /** Named groups of the pattern other than `service` and `start`. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Name patterns of files that are still being written or are not profiles at all: dot files (rsync and
 * many uploaders write `.name.XXXXXX` then rename), and the usual temporary suffixes.
 */
const INCOMPLETE_NAME = /(?:^|\/)\.[^/]*$|\.(?:tmp|temp|part|partial|crdownload|swp)$|~$/i;

/** True for names that must never be read, whatever their age. */
export function isIncompleteName(relativePath: string): boolean {
  return INCOMPLETE_NAME.test(relativePath);
}

/**
 * Matches a path relative to the drop folder (`/` separators) against the pattern; null when it does
 * not match or its start cannot be read.
 */
export function parseDropFileName(relativePath: string, pattern: RegExp): DropFileName | null {
  const groups = pattern.exec(relativePath)?.groups;
  if (groups === undefined) return null;
  const { service, start: startText, ...rest } = groups;
  if (!service || !startText) return null;
  const start = parseWindowStart(startText);
  if (start === null) return null;
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) labels[key] = value;
  return { service, start, labels };
}

const BASIC_ISO = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?Z$/;
/** ISO 8601 with `-` in place of `:` in the time, as file systems that forbid `:` force. */
const DASHED_ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})(?:-(\d{2}))?Z$/;
const EXTENDED_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * A window start written as ISO 8601 in UTC or with an offset (extended `2026-11-20T10:00:00Z`, basic
 * `20261120T100000Z`, or dashed `2026-11-20T10-00-00Z`), or as an epoch integer whose digit count tells
 * the unit: up to 11 digits seconds, up to 14 milliseconds, up to 17 microseconds, else nanoseconds.
 * Returns null for anything else, including local times without an offset (ambiguous).
 */
export function parseWindowStart(text: string): Date | null {
  if (/^\d{1,19}$/.test(text)) return fromEpoch(BigInt(text), text.length);
  const compact = BASIC_ISO.exec(text) ?? DASHED_ISO.exec(text);
  if (compact) {
    const [, year, month, day, hour, minute, second] = compact;
    return validDate(`${year}-${month}-${day}T${hour}:${minute}:${second ?? '00'}Z`);
  }
  return EXTENDED_ISO.test(text) ? validDate(text) : null;
}

function fromEpoch(value: bigint, digits: number): Date | null {
  const ms = digits <= 11 ? value * 1000n : digits <= 14 ? value : digits <= 17 ? value / 1000n : value / 1_000_000n;
  return ms > 8_640_000_000_000_000n ? null : new Date(Number(ms));
}

function validDate(iso: string): Date | null {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}
