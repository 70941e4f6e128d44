/**
 * Period arithmetic of the cost queries, in UTC: hours, days, ISO weeks (Monday 00:00) and calendar months. Pure:
 * the caller passes `nowMs` (no clock here). Instants are epoch milliseconds; ranges are half-open [fromMs, toMs).
 */

export const STEPS = ['hour', 'day', 'week', 'month'] as const;
export type Step = (typeof STEPS)[number];

export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}

const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-01 was a Thursday: ISO weeks start 3 days later. */
const MONDAY_OFFSET_MS = 4 * DAY_MS;

/** A request that cannot be answered as asked; `param` names the offending field. */
export class PeriodError extends Error {
  constructor(
    readonly param: 'from' | 'to' | 'step',
    message: string,
  ) {
    super(`${param}: ${message}`);
    this.name = 'PeriodError';
  }
}

/** The start of the step containing `ms`. */
export function floorToStep(ms: number, step: Step): number {
  switch (step) {
    case 'hour':
      return ms - mod(ms, HOUR_MS);
    case 'day':
      return ms - mod(ms, DAY_MS);
    case 'week':
      return ms - mod(ms - MONDAY_OFFSET_MS, WEEK_MS);
    case 'month': {
      const d = new Date(ms);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
  }
}

/** `ms` moved by `n` steps (months keep the day of month; callers only pass month starts). */
export function addSteps(ms: number, step: Step, n: number): number {
  switch (step) {
    case 'hour':
      return ms + n * HOUR_MS;
    case 'day':
      return ms + n * DAY_MS;
    case 'week':
      return ms + n * WEEK_MS;
    case 'month': {
      const d = new Date(ms);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, d.getUTCDate(), d.getUTCHours());
    }
  }
}

/** The consecutive steps covering an aligned range, first to last. */
export function buckets(range: TimeRange, step: Step): TimeRange[] {
  const out: TimeRange[] = [];
  for (let at = floorToStep(range.fromMs, step); at < range.toMs;) {
    const next = addSteps(at, step, 1);
    out.push({ fromMs: Math.max(at, range.fromMs), toMs: Math.min(next, range.toMs) });
    at = next;
  }
  return out;
}

/** How a bucket is named: ISO instant (hour), `2026-11-21` (day), `2026-W47` (ISO week), `2026-11` (month). */
export function bucketLabel(ms: number, step: Step): string {
  const iso = new Date(ms).toISOString();
  switch (step) {
    case 'hour':
      return iso;
    case 'day':
      return iso.slice(0, 10);
    case 'month':
      return iso.slice(0, 7);
    case 'week': {
      const thursday = floorToStep(ms, 'week') + 3 * DAY_MS; // the ISO year is the year of the week's Thursday
      const year = new Date(thursday).getUTCFullYear();
      const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / WEEK_MS) + 1;
      return `${year}-W${String(week).padStart(2, '0')}`;
    }
  }
}

/** A query's period, resolved against `now`. */
export interface ResolvedPeriod {
  readonly step: Step;
  /** [from, to) as asked (aligned to the step). */
  readonly requested: TimeRange;
  /** What the figures cover: `requested`, or its elapsed part [from, now floored to the hour) when partial. */
  readonly current: TimeRange;
  /** The previous period of equal length: the same number of steps before `from` (calendar months for `month`),
   *  cut to the same elapsed length as `current` when the period is partial (like for like). */
  readonly previous: TimeRange;
  /** True when `to` is after now: the period is not closed and `current` stops at the last whole hour. */
  readonly partial: boolean;
  readonly steps: number;
}

/**
 * Validates and resolves [from, to) with `step`: both ends must be step boundaries (ISO Monday for weeks, the 1st
 * for months), `to` after `from`, and the period at most `maxSteps` steps.
 * @throws PeriodError naming the parameter.
 */
export function resolvePeriod(
  request: { readonly fromMs: number; readonly toMs: number; readonly step: Step },
  nowMs: number,
  maxSteps = 10_000,
): ResolvedPeriod {
  const { fromMs, toMs, step } = request;
  if (!(STEPS as readonly string[]).includes(step)) throw new PeriodError('step', `must be one of ${STEPS.join(', ')}`);
  if (!Number.isFinite(fromMs)) throw new PeriodError('from', 'is not a valid instant');
  if (!Number.isFinite(toMs)) throw new PeriodError('to', 'is not a valid instant');
  if (floorToStep(fromMs, step) !== fromMs)
    throw new PeriodError('from', `must be the start of a UTC ${stepName(step)}`);
  if (floorToStep(toMs, step) !== toMs) throw new PeriodError('to', `must be the start of a UTC ${stepName(step)}`);
  if (toMs <= fromMs) throw new PeriodError('to', 'must be after from');
  const steps = countSteps(fromMs, toMs, step);
  if (steps > maxSteps) throw new PeriodError('to', `the period may be at most ${maxSteps} ${step}s`);
  const previousFrom = addSteps(fromMs, step, -steps);
  const through = Math.min(toMs, Math.max(fromMs, floorToStep(nowMs, 'hour')));
  const partial = toMs > nowMs;
  const previousTo = partial ? Math.min(fromMs, previousFrom + (through - fromMs)) : fromMs;
  return {
    step,
    requested: { fromMs, toMs },
    current: { fromMs, toMs: through },
    previous: { fromMs: previousFrom, toMs: previousTo },
    partial,
    steps,
  };
}

/**
 * A range of whole hours split into what the daily rollups can answer (`days`, whole UTC days, or null) and the
 * hourly edges before and after them (each a range shorter than a day, or absent).
 */
export function splitByDay(range: TimeRange): {
  readonly days: TimeRange | null;
  readonly hours: readonly TimeRange[];
} {
  if (range.toMs <= range.fromMs) return { days: null, hours: [] };
  const firstMidnight = floorToStep(range.fromMs + DAY_MS - 1, 'day');
  const lastMidnight = floorToStep(range.toMs, 'day');
  if (firstMidnight >= lastMidnight) return { days: null, hours: [range] };
  const hours: TimeRange[] = [];
  if (range.fromMs < firstMidnight) hours.push({ fromMs: range.fromMs, toMs: firstMidnight });
  if (lastMidnight < range.toMs) hours.push({ fromMs: lastMidnight, toMs: range.toMs });
  return { days: { fromMs: firstMidnight, toMs: lastMidnight }, hours };
}

/**
 * (current − previous) / previous as a percentage with two decimals, rounded half away from zero, as a string
 * (exact: bigint arithmetic); null when previous is 0.
 */
export function percentChange(current: bigint, previous: bigint): string | null {
  if (previous === 0n) return null;
  const delta = current - previous;
  const scaled = (delta * 10_000n * 2n) / previous; // basis points × 2, truncated
  const bp = scaled >= 0n ? (scaled + 1n) / 2n : (scaled - 1n) / 2n;
  const negative = bp < 0n;
  const abs = negative ? -bp : bp;
  return `${negative ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

function countSteps(fromMs: number, toMs: number, step: Step): number {
  if (step !== 'month') return Math.round((toMs - fromMs) / addSteps(0, step, 1));
  const a = new Date(fromMs);
  const b = new Date(toMs);
  return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
}

function stepName(step: Step): string {
  return step === 'week' ? 'ISO week (a Monday 00:00)' : step === 'month' ? 'calendar month (the 1st, 00:00)' : step;
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}
