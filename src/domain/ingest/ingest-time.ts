import { IngestRequestError } from './ingest-request.error';

/**
 * `from` / `until` of a push, as Pyroscope's `attime.Parse` reads them (pkg/og/util/attime), with `now` passed in:
 * - `_`, `,` and spaces are removed first;
 * - digits only: 8 digits that form a valid date are `YYYYMMDD` (UTC midnight); otherwise a Unix time whose unit
 *   is told by its digit count: 13 digits milliseconds, 16 microseconds, 19 nanoseconds, any other count seconds;
 * - `now`, optionally followed by one sign and `<number><unit>` groups (`now-1h`, `now-1h30min`), units
 *   s, min/m, h, d, w, mon/M, y; an unknown or missing unit counts as 0, as in Pyroscope (`now-1` is now);
 * - absent or empty: now.
 * Unlike Pyroscope (which silently uses now for anything else) other text is a 400: a garbled timestamp must not
 * land a profile in the current window.
 *
 * @returns milliseconds since the Unix epoch (sub-millisecond digits are dropped: windows are coarser).
 */
export function parseIngestTime(raw: string | undefined, field: string, nowMs: number): number {
  if (raw === undefined) return nowMs;
  const text = raw.trim().replace(/[_, ]/g, '');
  if (text === '') return nowMs;
  if (/^\d+$/.test(text)) return parseDigits(text, field);
  const relative = /^now(?:([+-])((?:\d+[A-Za-z]*)+))?$/.exec(text);
  if (relative) return nowMs + parseOffsetSeconds(relative[1], relative[2]) * 1000;
  throw new IngestRequestError(
    field,
    `expected a Unix time in s, ms, µs or ns, a YYYYMMDD date, or now[-offset]; got ${JSON.stringify(raw.slice(0, 40))}`,
  );
}

function parseDigits(text: string, field: string): number {
  if (text.length === 8) {
    const date = parseCompactDate(text);
    if (date !== null) return date;
  }
  const value = BigInt(text);
  let ms: bigint;
  switch (text.length) {
    case 13:
      ms = value;
      break;
    case 16:
      ms = value / 1000n;
      break;
    case 19:
      ms = value / 1_000_000n;
      break;
    default:
      ms = value * 1000n;
  }
  // Dates beyond year 275760 are not representable; treat them as the garbage they are.
  if (ms > 8_640_000_000_000_000n) throw new IngestRequestError(field, `Unix time out of range: ${text}`);
  return Number(ms);
}

/** `YYYYMMDD` as UTC midnight, or null when it is not a real date after 1900 (then it is a Unix time in seconds). */
function parseCompactDate(text: string): number | null {
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(4, 6));
  const day = Number(text.slice(6, 8));
  if (year <= 1900 || month < 1 || month > 12 || day < 1 || day > 31) return null;
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  // Go's time.Parse rejects 20230231; so do we (it then falls back to seconds, as there).
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return null;
  return ms;
}

const UNIT_SECONDS: ReadonlyArray<readonly [prefix: string, seconds: number]> = [
  ['s', 1],
  ['mon', 30 * 86400],
  ['M', 30 * 86400],
  ['min', 60],
  ['m', 60],
  ['h', 3600],
  ['d', 86400],
  ['w', 7 * 86400],
  ['y', 365 * 86400],
];

function parseOffsetSeconds(sign: string | undefined, groups: string | undefined): number {
  if (sign === undefined || groups === undefined) return 0;
  let seconds = 0;
  for (const [, digits, unit] of groups.matchAll(/(\d+)([A-Za-z]*)/g)) {
    const entry = UNIT_SECONDS.find(([prefix]) => unit!.startsWith(prefix));
    seconds += Number(digits) * (entry ? entry[1] : 0);
  }
  return sign === '-' ? -seconds : seconds;
}

/** The time range a push covers; throws when `until` is before `from`. */
export function parseIngestRange(
  from: string | undefined,
  until: string | undefined,
  nowMs: number,
): { fromMs: number; untilMs: number } {
  const fromMs = parseIngestTime(from, 'from', nowMs);
  const untilMs = parseIngestTime(until, 'until', nowMs);
  if (untilMs < fromMs) {
    throw new IngestRequestError(
      'until',
      `${new Date(untilMs).toISOString()} is before from ${new Date(fromMs).toISOString()}`,
    );
  }
  return { fromMs, untilMs };
}
