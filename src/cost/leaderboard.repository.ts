import type { DataSource } from 'typeorm';
import { queryRows } from '../database/query-rows';

/** A period [from, to); `days` is set when both ends are UTC midnights (daily tables can answer). */
export interface Period {
  readonly from: Date;
  readonly to: Date;
}

/** One ranked line: its key columns, its amount in the period and in the previous one. */
export interface RankedRow {
  readonly key: Readonly<Record<string, string | number | null>>;
  readonly current: bigint;
  readonly previous: bigint;
  /** Extra figures of the line (e.g. inclusive next to self), current period. */
  readonly extra: Readonly<Record<string, bigint | number | boolean | null>>;
}

export interface PeriodTotals {
  readonly currencies: readonly string[];
  readonly totalMicrodollars: bigint;
  readonly defaultPriced: boolean;
  readonly windows: number;
}

/**
 * The leaderboard queries. Each ranks the current period's lines and fetches the previous period's amounts
 * of just those lines. Sums are returned as text and parsed as bigint: exact past 2^53.
 */
export class LeaderboardRepository {
  constructor(private readonly db: DataSource) {}

  async totals(period: Period): Promise<PeriodTotals> {
    const [row] = await queryRows<{ currencies: string[] | null; total: string | null; default_priced: boolean | null; windows: number }>(
      this.db,
      `SELECT array_agg(DISTINCT currency) AS currencies, sum(total_microdollars)::text AS total,
              bool_or(default_priced) AS default_priced, count(*)::int AS windows
         FROM cost_windows WHERE window_start >= $1 AND window_start < $2`,
      [period.from, period.to],
    );
    return {
      currencies: (row?.currencies ?? []).filter((c) => c !== null),
      totalMicrodollars: BigInt(row?.total ?? 0),
      defaultPriced: row?.default_priced ?? false,
      windows: row?.windows ?? 0,
    };
  }

  /** Teams by own (`self`) or rolled-up (`inclusive`) cost, including `__unowned__` and `__idle__`. */
  teams(current: Period, previous: Period, by: 'self' | 'inclusive', limit: number): Promise<RankedRow[]> {
    const column = by === 'self' ? 'own_microdollars' : 'rolled_up_microdollars';
    const daily = isDaily(current) && isDaily(previous);
    const source = daily
      ? { table: 'cost_team_days', time: 'day', cast: '::date' }
      : { table: 'cost_team_windows', time: 'window_start', cast: '::timestamptz' };
    return this.ranked(
      `WITH cur AS (
         SELECT team, min(kind) AS kind, sum(${column}) AS v FROM ${source.table}
          WHERE ${source.time} >= $1${source.cast} AND ${source.time} < $2${source.cast} GROUP BY team
          ORDER BY v DESC, team LIMIT $5),
       prev AS (
         SELECT team, sum(${column}) AS v FROM ${source.table}
          WHERE ${source.time} >= $3${source.cast} AND ${source.time} < $4${source.cast} AND team IN (SELECT team FROM cur) GROUP BY team)
       SELECT cur.team, cur.kind, cur.v::text AS current, coalesce(prev.v, 0)::text AS previous
         FROM cur LEFT JOIN prev USING (team) ORDER BY cur.v DESC, cur.team`,
      daily ? dayParams(current, previous, limit) : timeParams(current, previous, limit),
      (r) => ({ key: { team: r.team as string, kind: r.kind as string }, extra: {} }),
    );
  }

  /** Services by cost, with their team, CPU time and whether a default price was used. */
  services(current: Period, previous: Period, limit: number): Promise<RankedRow[]> {
    const daily = isDaily(current) && isDaily(previous);
    const source = daily
      ? { table: 'cost_service_days', time: 'day', cast: '::date' }
      : { table: 'cost_service_windows', time: 'window_start', cast: '::timestamptz' };
    return this.ranked(
      `WITH cur AS (
         SELECT service, string_agg(DISTINCT team, ',' ORDER BY team) AS team, sum(microdollars) AS v,
                sum(cpu_nanoseconds)::text AS cpu, bool_or(default_priced) AS default_priced
           FROM ${source.table}
          WHERE ${source.time} >= $1${source.cast} AND ${source.time} < $2${source.cast} GROUP BY service
          ORDER BY v DESC, service LIMIT $5),
       prev AS (
         SELECT service, sum(microdollars) AS v FROM ${source.table}
          WHERE ${source.time} >= $3${source.cast} AND ${source.time} < $4${source.cast} AND service IN (SELECT service FROM cur) GROUP BY service)
       SELECT cur.service, cur.team, cur.cpu, cur.default_priced, cur.v::text AS current, coalesce(prev.v, 0)::text AS previous
         FROM cur LEFT JOIN prev USING (service) ORDER BY cur.v DESC, cur.service`,
      daily ? dayParams(current, previous, limit) : timeParams(current, previous, limit),
      (r) => ({
        key: { service: r.service as string, team: r.team as string },
        extra: { cpuNanoseconds: BigInt(r.cpu as string), defaultPriced: r.default_priced as boolean },
      }),
    );
  }

  /** Functions per service, by self or inclusive cost (daily facts: the period must be whole UTC days). */
  functions(current: Period, previous: Period, by: 'self' | 'inclusive', limit: number): Promise<RankedRow[]> {
    const column = by === 'self' ? 'self_microdollars' : 'cum_microdollars';
    const other = by === 'self' ? 'cum_microdollars' : 'self_microdollars';
    return this.ranked(
      `WITH cur AS (
         SELECT service, function_id, sum(${column}) AS v, sum(${other}) AS o FROM cost_function_days
          WHERE day >= $1::date AND day < $2::date GROUP BY service, function_id
          ORDER BY v DESC, service, function_id LIMIT $5),
       prev AS (
         SELECT d.service, d.function_id, sum(d.${column}) AS v FROM cost_function_days d JOIN cur USING (service, function_id)
          WHERE d.day >= $3::date AND d.day < $4::date GROUP BY d.service, d.function_id)
       SELECT cur.service, cur.function_id, cur.o::text AS other, cur.v::text AS current, coalesce(prev.v, 0)::text AS previous
         FROM cur LEFT JOIN prev USING (service, function_id) ORDER BY cur.v DESC, cur.service, cur.function_id`,
      dayParams(current, previous, limit),
      (r) => ({ key: { service: r.service as string, functionId: Number(r.function_id) }, extra: { other: BigInt(r.other as string) } }),
    );
  }

  /** Functions summed over every service they appear in. */
  crossServiceFunctions(current: Period, previous: Period, by: 'self' | 'inclusive', limit: number): Promise<RankedRow[]> {
    const column = by === 'self' ? 'self_microdollars' : 'cum_microdollars';
    const other = by === 'self' ? 'cum_microdollars' : 'self_microdollars';
    return this.ranked(
      `WITH cur AS (
         SELECT function_id, sum(${column}) AS v, sum(${other}) AS o, count(DISTINCT service)::int AS services FROM cost_function_days
          WHERE day >= $1::date AND day < $2::date GROUP BY function_id
          ORDER BY v DESC, function_id LIMIT $5),
       prev AS (
         SELECT function_id, sum(${column}) AS v FROM cost_function_days
          WHERE day >= $3::date AND day < $4::date AND function_id IN (SELECT function_id FROM cur) GROUP BY function_id)
       SELECT cur.function_id, cur.services, cur.o::text AS other, cur.v::text AS current, coalesce(prev.v, 0)::text AS previous
         FROM cur LEFT JOIN prev USING (function_id) ORDER BY cur.v DESC, cur.function_id`,
      dayParams(current, previous, limit),
      (r) => ({ key: { functionId: Number(r.function_id) }, extra: { other: BigInt(r.other as string), services: Number(r.services) } }),
    );
  }

  private async ranked(sql: string, params: unknown[], map: (r: Record<string, unknown>) => Pick<RankedRow, 'key' | 'extra'>): Promise<RankedRow[]> {
    const rows = await queryRows<Record<string, unknown>>(this.db, sql, params);
    return rows.map((r) => ({ ...map(r), current: BigInt(r.current as string), previous: BigInt(r.previous as string) }));
  }
}

/** True when both ends are UTC midnights. */
export function isDaily(period: Period): boolean {
  return period.from.getTime() % 86_400_000 === 0 && period.to.getTime() % 86_400_000 === 0;
}

function dayParams(current: Period, previous: Period, limit: number): unknown[] {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  return [day(current.from), day(current.to), day(previous.from), day(previous.to), limit];
}

function timeParams(current: Period, previous: Period, limit: number): unknown[] {
  return [current.from, current.to, previous.from, previous.to, limit];
}
