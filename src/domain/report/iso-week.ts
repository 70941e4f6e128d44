import { bucketLabel, DAY_MS, floorToStep } from '../cost/period';

const WEEK_MS = 7 * DAY_MS;

/** An ISO week: its label (`2026-W49`) and its UTC bounds [from, to). */
export interface IsoWeek {
  readonly label: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** The ISO week containing `ms`. */
export function isoWeekOf(ms: number): IsoWeek {
  const fromMs = floorToStep(ms, 'week');
  return { label: bucketLabel(fromMs, 'week'), fromMs, toMs: fromMs + WEEK_MS };
}

/** The last ISO week that ended at or before `nowMs`. */
export function lastCompleteWeek(nowMs: number): IsoWeek {
  return isoWeekOf(floorToStep(nowMs, 'week') - WEEK_MS);
}

/**
 * Parses `2026-W49` (ISO 8601 week date, week 1 holds the year's first Thursday); null when it is not a week label or
 * the week does not exist in that year (W53 of a 52-week year).
 */
export function parseIsoWeek(label: string): IsoWeek | null {
  const m = /^(\d{4})-W(\d{2})$/.exec(label);
  if (!m) return null;
  const year = Number(m[1]);
  const week = Number(m[2]);
  if (week < 1 || week > 53) return null;
  // The Monday of week 1 is the Monday of the week holding January 4th.
  const week1 = floorToStep(Date.UTC(year, 0, 4), 'week');
  const found = isoWeekOf(week1 + (week - 1) * WEEK_MS);
  return found.label === label ? found : null;
}

/** The `count` ISO weeks ending with `last` (included), oldest first. */
export function weeksEndingWith(last: IsoWeek, count: number): IsoWeek[] {
  return Array.from({ length: count }, (_, i) => isoWeekOf(last.fromMs - (count - 1 - i) * WEEK_MS));
}
