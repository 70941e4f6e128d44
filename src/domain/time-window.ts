import { DAY_MS } from './cost/period';

/** A half-open UTC time range [start, end): a pull, push or attribution window, or any other period. */
export interface TimeWindow {
  readonly start: Date;
  readonly end: Date;
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function isoDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The UTC days a range touches, as `[fromDay, toDay)` (`YYYY-MM-DD`, the first day included, the last excluded): the
 * days of stored service-day trees that cover it.
 */
export function utcDaysCovering(from: Date, to: Date): { fromDay: string; toDay: string } {
  return {
    fromDay: isoDay(new Date(Math.floor(from.getTime() / DAY_MS) * DAY_MS)),
    toDay: isoDay(new Date(Math.ceil(to.getTime() / DAY_MS) * DAY_MS)),
  };
}
