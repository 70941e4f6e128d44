import { DAY_MS, floorToStep, type Step } from '../cost/period';
import { isoWeekOf, parseIsoWeek } from '../report/iso-week';
import { isoDay as isoDayOf, utcDaysCovering } from '../time-window';

/** The period a dashboard page shows: UTC [from, to), the trend's step, and how the picker names it. */
export interface PagePeriod {
  readonly from: Date;
  readonly to: Date;
  readonly step: Step;
  /** `7d`, `30d`, `week`, `month` or `custom`: which picker control is active. */
  readonly kind: '7d' | '30d' | 'week' | 'month' | 'custom';
  /** `Last 7 days`, `2026-W48`, `2026-11`, `1 Nov 2026 – 14 Nov 2026`. */
  readonly label: string;
  /** The query string that selects this period again (for links between pages), without `?`. */
  readonly query: string;
  /** Values of the picker's inputs: ISO week, month, first and last day (inclusive). */
  readonly inputs: {
    readonly week: string;
    readonly month: string;
    readonly firstDay: string;
    readonly lastDay: string;
  };
}

/** A picker value that names no period; `param` is the query parameter. */
export class PagePeriodError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(`${param}: ${message}`);
    this.name = 'PagePeriodError';
  }
}

/** The longest custom range a page accepts: a year and a bit (the query service reads day rollups). */
const MAX_DAYS = 400;
/** Longer periods trend per week: a daily series of a year is 365 points nobody reads. */
const DAILY_UP_TO_DAYS = 92;

/**
 * The period of a page's query: `week=2026-W48` (an ISO week), `month=2026-11` (a calendar month), `from=2026-11-01&to=
 * 2026-11-14` (whole UTC days, both included, as a person picks them), `range=30d`, or by default the last 7 whole days
 * (ending at today's UTC midnight: a team lead opening the page on a Monday sees a full week, not a morning).
 */
export function pagePeriod(query: Readonly<Record<string, unknown>>, nowMs: number): PagePeriod {
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new PagePeriodError(name, 'give it once');
    return value;
  };
  const week = text('week');
  const month = text('month');
  const from = text('from');
  const to = text('to');
  const range = text('range');
  const today = floorToStep(nowMs, 'day');
  if (week !== undefined) {
    const w = parseIsoWeek(week);
    if (!w) throw new PagePeriodError('week', `"${week}" is not an ISO week such as 2026-W48`);
    return make(w.fromMs, w.toMs, 'week', w.label, `week=${w.label}`);
  }
  if (month !== undefined) {
    const m = /^(\d{4})-(\d{2})$/.exec(month);
    const monthIndex = m ? Number(m[2]) - 1 : -1;
    if (!m || monthIndex < 0 || monthIndex > 11)
      throw new PagePeriodError('month', `"${month}" is not a month such as 2026-11`);
    const start = Date.UTC(Number(m[1]), monthIndex, 1);
    return make(start, Date.UTC(Number(m[1]), monthIndex + 1, 1), 'month', month, `month=${month}`);
  }
  if (from !== undefined || to !== undefined) {
    if (from === undefined) throw new PagePeriodError('from', 'is required with to (a day such as 2026-11-01)');
    if (to === undefined) throw new PagePeriodError('to', 'is required with from (a day such as 2026-11-14)');
    const start = day(from, 'from');
    const end = day(to, 'to') + DAY_MS;
    if (end <= start) throw new PagePeriodError('to', `${to} is before ${from}`);
    if (end - start > MAX_DAYS * DAY_MS) throw new PagePeriodError('to', `at most ${MAX_DAYS} days at once`);
    return make(start, end, 'custom', `${from} – ${to}`, `from=${from}&to=${to}`);
  }
  if (range === undefined || range === '7d') return make(today - 7 * DAY_MS, today, '7d', 'Last 7 days', 'range=7d');
  if (range === '30d') return make(today - 30 * DAY_MS, today, '30d', 'Last 30 days', 'range=30d');
  throw new PagePeriodError('range', `"${range}" is not one of 7d, 30d`);
}

/** The period's days as `YYYY-MM-DD`, first included, last excluded (what the profile trees are read by). */
export function periodDays(period: { readonly from: Date; readonly to: Date }): { fromDay: string; toDay: string } {
  return utcDaysCovering(period.from, period.to);
}

function make(fromMs: number, toMs: number, kind: PagePeriod['kind'], label: string, query: string): PagePeriod {
  const days = (toMs - fromMs) / DAY_MS;
  return {
    from: new Date(fromMs),
    to: new Date(toMs),
    step: days <= DAILY_UP_TO_DAYS ? 'day' : 'week',
    kind,
    label,
    query,
    inputs: {
      week: isoWeekOf(fromMs).label,
      month: isoDay(fromMs).slice(0, 7),
      firstDay: isoDay(fromMs),
      lastDay: isoDay(toMs - DAY_MS),
    },
  };
}

function day(value: string, param: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || isoDay(ms) !== value)
    throw new PagePeriodError(param, `"${value}" is not a day such as 2026-11-01`);
  return ms;
}

function isoDay(ms: number): string {
  return isoDayOf(new Date(ms));
}
