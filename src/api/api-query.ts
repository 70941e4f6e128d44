import { DAY_MS, floorToStep, STEPS, type Step } from '../domain/cost';
import { ParamError } from './api-error';

/** No parameter value is longer: longer ones are refused before anything reads them. */
export const MAX_PARAM_CHARS = 512;

/** Parses one query parameter's text; throws `ParamError` naming it. */
export type ParamParser<T> = (value: string, param: string) => T;

type Parsed<S extends Record<string, ParamParser<unknown>>> = { [K in keyof S]?: ReturnType<S[K]> };

/**
 * Validates a query string against `spec`: an unknown parameter, one given twice, or a value longer than
 * `MAX_PARAM_CHARS` is a 400 naming it, as is any value its parser refuses. Absent parameters are undefined.
 */
export function parseQuery<S extends Record<string, ParamParser<unknown>>>(
  raw: Readonly<Record<string, unknown>>,
  spec: S,
): Parsed<S> {
  const out: Record<string, unknown> = {};
  for (const [param, value] of Object.entries(raw)) {
    const parser = spec[param];
    if (!parser)
      throw new ParamError(param, `unknown parameter; this endpoint takes ${Object.keys(spec).join(', ') || 'none'}`);
    if (typeof value !== 'string') throw new ParamError(param, 'must be given once, as a plain value');
    if (value.length > MAX_PARAM_CHARS) throw new ParamError(param, `is longer than ${MAX_PARAM_CHARS} characters`);
    out[param] = parser(value, param);
  }
  return out as Parsed<S>;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An ISO 8601 date (UTC midnight) or date-time with a zone. */
export const instant: ParamParser<Date> = (value, param) => {
  const ms = INSTANT.test(value) ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : Number.NaN;
  if (Number.isNaN(ms))
    throw new ParamError(
      param,
      'must be an ISO 8601 date or date-time with a zone, e.g. 2026-11-21 or 2026-11-21T06:00:00Z',
    );
  return new Date(ms);
};

export const step: ParamParser<Step> = (value, param) => oneOf(STEPS)(value, param);

export function oneOf<T extends string>(values: readonly T[]): ParamParser<T> {
  return (value, param) => {
    if (!(values as readonly string[]).includes(value))
      throw new ParamError(param, `must be one of ${values.join(', ')}`);
    return value as T;
  };
}

export function wholeNumber(min: number, max: number): ParamParser<number> {
  return (value, param) => {
    const n = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max)) throw new ParamError(param, `must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A service, team or system name as the catalog and the profile labels write them. */
export const name: ParamParser<string> = (value, param) => {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,199}$/.test(value))
    throw new ParamError(param, 'must be a name of letters, digits and _ . : / - (at most 200)');
  return value;
};

/**
 * A function name as profiles write it (`main.(*T).Run`, `std::vector<int>::push_back`, `(anonymous) file.js:3`).
 * Quotes, semicolons, backslashes and control characters appear in no symbol we attribute, and are refused.
 */
export const functionName: ParamParser<string> = (value, param) => {
  if (value.length === 0 || value.length > 500 || /['";\\`\p{Cc}]|--/u.test(value))
    throw new ParamError(
      param,
      'must be a function name without quotes, semicolons, backslashes or control characters',
    );
  return value;
};

export const cursor: ParamParser<string> = (value, param) => {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(value)) throw new ParamError(param, 'is not a cursor this service returned');
  return value;
};

export const format: ParamParser<'json' | 'csv'> = oneOf(['json', 'csv'] as const);

const GROUP_BY = /^(team|service|function|label:[A-Za-z_][A-Za-z0-9_.]{0,99})$/;

export const groupBy: ParamParser<'team' | 'service' | 'function' | `label:${string}`> = (value, param) => {
  if (!GROUP_BY.test(value)) throw new ParamError(param, 'must be team, service, function or label:<key>');
  return value as 'team' | 'service' | 'function' | `label:${string}`;
};

/** A period [from, to) with the step its ends are aligned to. */
export interface Period {
  readonly from: Date;
  readonly to: Date;
  readonly step: Step;
}

/** OpenCost's `window=` vocabulary. */
export const WINDOWS = ['today', 'yesterday', 'week', 'lastweek', '7d', '30d'] as const;

export const windowParam: ParamParser<string> = (value, param) => {
  if ((WINDOWS as readonly string[]).includes(value)) return value;
  const parts = value.split(',');
  if (parts.length !== 2) throw new ParamError(param, `must be one of ${WINDOWS.join(', ')} or <RFC3339>,<RFC3339>`);
  parts.forEach((p) => instant(p, param));
  return value;
};

/**
 * The period of `from`/`to`/`step` or of OpenCost's `window` (not both). The step defaults to `day` when both ends
 * are UTC midnights, else `hour`. Named windows are UTC: `today` and `yesterday` are days, `week` and `lastweek` ISO
 * weeks, `7d` and `30d` the last 7 or 30 whole days ending at today's midnight.
 */
export function periodOf(q: { from?: Date; to?: Date; step?: Step; window?: string }, nowMs: number): Period {
  if (q.window !== undefined) {
    if (q.from || q.to) throw new ParamError('window', 'give either window or from and to, not both');
    const today = floorToStep(nowMs, 'day');
    const week = floorToStep(nowMs, 'week');
    const named: Record<string, [number, number, Step]> = {
      today: [today, today + DAY_MS, 'day'],
      yesterday: [today - DAY_MS, today, 'day'],
      week: [week, week + 7 * DAY_MS, 'week'],
      lastweek: [week - 7 * DAY_MS, week, 'week'],
      '7d': [today - 7 * DAY_MS, today, 'day'],
      '30d': [today - 30 * DAY_MS, today, 'day'],
    };
    const hit = named[q.window];
    if (hit) return { from: new Date(hit[0]), to: new Date(hit[1]), step: q.step ?? hit[2] };
    const [a, b] = q.window.split(',').map((p) => instant(p, 'window')) as [Date, Date];
    return { from: a, to: b, step: q.step ?? defaultStep(a, b) };
  }
  if (!q.from) throw new ParamError('from', 'is required (or window=), an ISO 8601 date or date-time with a zone');
  if (!q.to) throw new ParamError('to', 'is required (or window=), an ISO 8601 date or date-time with a zone');
  return { from: q.from, to: q.to, step: q.step ?? defaultStep(q.from, q.to) };
}

function defaultStep(from: Date, to: Date): Step {
  return from.getTime() % DAY_MS === 0 && to.getTime() % DAY_MS === 0 ? 'day' : 'hour';
}

/** The parameters of every period endpoint. */
export const PERIOD_PARAMS = { from: instant, to: instant, step, window: windowParam } as const;
