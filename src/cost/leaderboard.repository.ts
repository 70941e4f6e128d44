import type { DataSource } from 'typeorm';
import { queryRows } from '../database/query-rows';
import { BLOCK_BITS, type TopBoard } from './function-day-state';
import { finalists, type DayList } from './function-leaderboard';

/** A period [from, to); daily tables answer it when both ends are UTC midnights. */
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
    const [row] = await queryRows<{
      currencies: string[] | null;
      total: string | null;
      default_priced: boolean | null;
      windows: number;
    }>(
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
    const source = rollupSource('cost_team', current, previous, limit);
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
      source.params,
      (r) => ({ key: { team: r.team as string, kind: r.kind as string }, extra: {} }),
    );
  }

  /** Services by cost, with their team, CPU time and whether a default price was used. */
  services(current: Period, previous: Period, limit: number): Promise<RankedRow[]> {
    const source = rollupSource('cost_service', current, previous, limit);
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
      source.params,
      (r) => ({
        key: { service: r.service as string, team: r.team as string },
        extra: { cpuNanoseconds: BigInt(r.cpu as string), defaultPriced: r.default_priced as boolean },
      }),
    );
  }

  /**
   * Functions per service, by self or inclusive cost (daily facts: the period must be whole UTC days). Read from the
   * days' board lists (`functionFinalists`), then exact sums of the finalists only; the whole period is summed only
   * when the stored lists cannot decide.
   */
  async functions(current: Period, previous: Period, by: 'self' | 'inclusive', limit: number): Promise<RankedRow[]> {
    const keys = await this.functionFinalists(current, by === 'self' ? 'self' : 'inclusive', limit);
    if (keys === null) return this.functionsBySum(current, previous, by, limit);
    const pairs = keys.map((k) => k.split(':').map(Number) as [number, number]);
    const [now, before] = await Promise.all([
      this.exactAmounts(current, pairs, false),
      this.exactAmounts(previous, pairs, false),
    ]);
    const column = by === 'self' ? 'self' : 'cum';
    const other = by === 'self' ? 'cum' : 'self';
    const lines = pairs
      .map(([sid, fid]) => ({ sid, fid, cur: now.get(`${sid}:${fid}`), prev: before.get(`${sid}:${fid}`) }))
      .filter((l) => l.cur !== undefined);
    // Ranked in SQL so equal amounts order by service name exactly as the summing query orders them.
    return this.ranked(
      `SELECT s.name AS service, x.function_id, x.o::text AS other, x.v::text AS current, x.p::text AS previous
         FROM unnest($1::int[], $2::int[], $3::numeric[], $4::numeric[], $5::numeric[]) AS x(service_id, function_id, v, o, p)
         JOIN cost_services s ON s.id = x.service_id
        ORDER BY x.v DESC, s.name, x.function_id LIMIT $6`,
      [
        lines.map((l) => l.sid),
        lines.map((l) => l.fid),
        lines.map((l) => l.cur![column].toString()),
        lines.map((l) => l.cur![other].toString()),
        lines.map((l) => (l.prev?.[column] ?? 0n).toString()),
        limit,
      ],
      (r) => ({
        key: { service: r.service as string, functionId: Number(r.function_id) },
        extra: { other: BigInt(r.other as string) },
      }),
    );
  }

  /**
   * Functions summed over every service they appear in; read like `functions`. `services` (how many distinct
   * services ran the function in the period) reads every day's block of each finalist; callers that do not show it
   * pass `{ services: false }` (then `extra.services` is null) and the finalists' days are read from the lists.
   */
  async crossServiceFunctions(
    current: Period,
    previous: Period,
    by: 'self' | 'inclusive',
    limit: number,
    options: { readonly services: boolean } = { services: true },
  ): Promise<RankedRow[]> {
    const keys = await this.functionFinalists(current, by === 'self' ? 'cross-self' : 'cross-inclusive', limit);
    if (keys === null) return this.crossServiceFunctionsBySum(current, previous, by, limit);
    const ids = keys.map(Number);
    const [now, before] = await Promise.all([
      this.exactAmounts(
        current,
        ids.map((fid) => [null, fid]),
        true,
        options.services,
      ),
      this.exactAmounts(
        previous,
        ids.map((fid) => [null, fid]),
        true,
        false,
      ),
    ]);
    const column = by === 'self' ? 'self' : 'cum';
    const other = by === 'self' ? 'cum' : 'self';
    return ids
      .flatMap((fid) => {
        const cur = now.get(`${fid}`);
        return cur ? [{ fid, cur, prev: before.get(`${fid}`)?.[column] ?? 0n }] : [];
      })
      .sort((a, b) => (a.cur[column] === b.cur[column] ? a.fid - b.fid : a.cur[column] > b.cur[column] ? -1 : 1))
      .slice(0, limit)
      .map((l) => ({
        key: { functionId: l.fid },
        current: l.cur[column],
        previous: l.prev,
        extra: { other: l.cur[other], services: options.services ? l.cur.services : null },
      }));
  }

  /**
   * Keys (`serviceId:functionId`, or `functionId` on cross boards) that can rank in the first `limit` lines of
   * `board` over the period, from the days' stored lists read ever deeper; null when even the whole stored lists
   * cannot tell (or the period has no daily facts in blocks... then there is nothing to rank: []).
   */
  private async functionFinalists(period: Period, board: TopBoard, limit: number): Promise<string[] | null> {
    const days = await queryRows<{ day: string; entries: number; top_size: number }>(
      this.db,
      `SELECT day::text AS day, ${board.startsWith('cross') ? 'functions' : 'pairs'} AS entries, top_size
         FROM cost_function_day_states WHERE day >= $1::date AND day < $2::date AND pairs > 0`,
      dayParams(period, period, 0).slice(0, 2),
    );
    if (days.length === 0) return [];
    const stored = Math.min(...days.map((d) => d.top_size));
    const column = board === 'self' || board === 'cross-self' ? 'self_microdollars' : 'cum_microdollars';
    for (let depth = Math.min(stored, Math.max(4 * limit, 100)); ; depth = Math.min(stored, depth * 4)) {
      const rows = await queryRows<{ day: string; service_id: number | null; function_id: number; amount: string }>(
        this.db,
        `SELECT day::text AS day, service_id, function_id, ${column}::text AS amount FROM cost_function_day_tops
          WHERE day >= $1::date AND day < $2::date AND board = $3 AND rank <= $4 ORDER BY day, rank`,
        [...dayParams(period, period, 0).slice(0, 2), board, depth],
      );
      const byDay = new Map<string, DayList & { lines: Array<{ key: string; amount: bigint }> }>();
      for (const d of days) byDay.set(d.day, { lines: [], complete: d.entries <= Math.min(depth, d.top_size) });
      for (const r of rows)
        byDay.get(r.day)?.lines.push({
          key: r.service_id === null ? `${r.function_id}` : `${r.service_id}:${r.function_id}`,
          amount: BigInt(r.amount),
        });
      const keys = finalists([...byDay.values()], limit);
      // Many finalists means near-ties across the boundary: reading deeper narrows them down.
      if (keys !== null && keys.length <= 4 * limit + 64) return keys;
      if (depth >= stored) return keys;
    }
  }

  /**
   * Exact period sums of the given (service id or null for all services, function id) keys. A day's board lists hold
   * each listed line's exact amounts of that day (self, inclusive and, on cross boards, its service count), so a
   * key's day is read from the lists when either board of its kind lists it, and from its block otherwise. With
   * `distinctServices` (the leaderboard API's cross board: services over the whole period, not per day) every day
   * is read from the blocks, whose entries name the services.
   */
  private async exactAmounts(
    period: Period,
    keys: ReadonlyArray<readonly [number | null, number]>,
    cross: boolean,
    distinctServices = false,
  ): Promise<Map<string, { self: bigint; cum: bigint; services: number }>> {
    if (keys.length === 0) return new Map();
    const keyOf = (sid: number | null, fid: number) => (cross || sid === null ? `${fid}` : `${sid}:${fid}`);
    const wanted = new Set(keys.map(([sid, fid]) => keyOf(sid, fid)));
    const fids = [...new Set(keys.map(([, fid]) => fid))];
    const [from, to] = dayParams(period, period, 0);
    const out = new Map<string, { self: bigint; cum: bigint; services: number }>();
    const add = (key: string, self: bigint, cum: bigint, services: number) => {
      const a = out.get(key);
      out.set(
        key,
        a ? { self: a.self + self, cum: a.cum + cum, services: a.services + services } : { self, cum, services },
      );
    };
    if (distinctServices) {
      const rows = await this.blockEntries(from as string, to as string, fids, cross);
      for (const r of rows) {
        const key = keyOf(r.service_id, r.function_id);
        if (wanted.has(key)) out.set(key, { self: BigInt(r.self), cum: BigInt(r.cum), services: r.services });
      }
      return out;
    }
    const [days, listed] = await Promise.all([
      queryRows<{ day: string }>(
        this.db,
        `SELECT day::text AS day FROM cost_function_day_states WHERE day >= $1::date AND day < $2::date AND pairs > 0`,
        [from, to],
      ),
      queryRows<{
        day: string;
        service_id: number | null;
        function_id: number;
        self: string;
        cum: string;
        services: number;
      }>(
        this.db,
        `SELECT DISTINCT ON (day, service_id, function_id) day::text AS day, service_id, function_id,
                self_microdollars::text AS self, cum_microdollars::text AS cum, services
           FROM cost_function_day_tops
          WHERE day >= $1::date AND day < $2::date AND board = ANY($3::text[]) AND function_id = ANY($4::int[])`,
        [from, to, cross ? ['cross-self', 'cross-inclusive'] : ['self', 'inclusive'], fids],
      ),
    ]);
    const found = new Set<string>();
    for (const r of listed) {
      const key = keyOf(r.service_id, r.function_id);
      if (!wanted.has(key)) continue;
      found.add(`${r.day}|${key}`);
      add(key, BigInt(r.self), BigInt(r.cum), r.services);
    }
    // The (day, function) pairs some wanted key of which no list holds: their slices of the blocks.
    const missing = new Map<string, [string, number]>();
    for (const { day } of days)
      for (const [sid, fid] of keys)
        if (!found.has(`${day}|${keyOf(sid, fid)}`)) missing.set(`${day}|${fid}`, [day, fid]);
    if (missing.size > 0) {
      const rows = await queryRows<{ day: string; service_id: number; function_id: number; self: string; cum: string }>(
        this.db,
        `SELECT x.day::text AS day, e.service_id, x.fid AS function_id, e.self_microdollars::text AS self, e.cum_microdollars::text AS cum
           FROM unnest($1::date[], $2::int[]) AS x(day, fid)
           JOIN cost_function_day_blocks b ON b.day = x.day AND b.block = x.fid >> ${BLOCK_BITS} AND x.fid BETWEEN b.first_function AND b.last_function
          CROSS JOIN LATERAL (SELECT array_positions(b.function_ids, x.fid) AS pos) p
          CROSS JOIN LATERAL unnest(b.service_ids[p.pos[1]:p.pos[cardinality(p.pos)]], b.self_microdollars[p.pos[1]:p.pos[cardinality(p.pos)]],
                                    b.cum_microdollars[p.pos[1]:p.pos[cardinality(p.pos)]]) AS e(service_id, self_microdollars, cum_microdollars)
          WHERE cardinality(p.pos) > 0`,
        [[...missing.values()].map(([day]) => day), [...missing.values()].map(([, fid]) => fid)],
      );
      const sums = new Map<string, { self: bigint; cum: bigint; services: number }>();
      for (const r of rows) {
        const key = keyOf(r.service_id, r.function_id);
        // Another key of the same function may have sent this day to the blocks while the lists held this one.
        if (!wanted.has(key) || found.has(`${r.day}|${key}`)) continue;
        const a = sums.get(key);
        sums.set(
          key,
          a
            ? { self: a.self + BigInt(r.self), cum: a.cum + BigInt(r.cum), services: a.services + 1 }
            : { self: BigInt(r.self), cum: BigInt(r.cum), services: 1 },
        );
      }
      for (const [key, a] of sums) add(key, a.self, a.cum, a.services);
    }
    return out;
  }

  /** Period sums of the functions' entries in the day blocks, per (service, function) or per function with `cross`. */
  private blockEntries(from: string, to: string, fids: readonly number[], cross: boolean) {
    const blocks = [...new Set(fids.map((fid) => fid >> BLOCK_BITS))];
    return queryRows<{ service_id: number | null; function_id: number; self: string; cum: string; services: number }>(
      this.db,
      `SELECT ${cross ? 'NULL::int' : 'e.service_id'} AS service_id, e.function_id, sum(e.self_microdollars)::text AS self, sum(e.cum_microdollars)::text AS cum,
              count(DISTINCT e.service_id)::int AS services
         FROM cost_function_day_blocks b
        CROSS JOIN LATERAL unnest(b.service_ids, b.function_ids, b.self_microdollars, b.cum_microdollars) AS e(service_id, function_id, self_microdollars, cum_microdollars)
        WHERE b.day >= $1::date AND b.day < $2::date AND b.block = ANY($3::int[]) AND e.function_id = ANY($4::int[])
          AND EXISTS (SELECT 1 FROM unnest($4::int[]) AS o(id) WHERE o.id BETWEEN b.first_function AND b.last_function)
        GROUP BY ${cross ? '' : 'e.service_id, '}e.function_id`,
      [from, to, blocks, [...fids]],
    );
  }

  /** `functions` by summing every daily row of both periods (the stored board lists could not decide). */
  functionsBySum(current: Period, previous: Period, by: 'self' | 'inclusive', limit: number): Promise<RankedRow[]> {
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
      (r) => ({
        key: { service: r.service as string, functionId: Number(r.function_id) },
        extra: { other: BigInt(r.other as string) },
      }),
    );
  }

  /** `crossServiceFunctions` by summing every daily row of both periods. */
  crossServiceFunctionsBySum(
    current: Period,
    previous: Period,
    by: 'self' | 'inclusive',
    limit: number,
  ): Promise<RankedRow[]> {
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
      (r) => ({
        key: { functionId: Number(r.function_id) },
        extra: { other: BigInt(r.other as string), services: Number(r.services) },
      }),
    );
  }

  private async ranked(
    sql: string,
    params: unknown[],
    map: (r: Record<string, unknown>) => Pick<RankedRow, 'key' | 'extra'>,
  ): Promise<RankedRow[]> {
    const rows = await queryRows<Record<string, unknown>>(this.db, sql, params);
    return rows.map((r) => ({
      ...map(r),
      current: BigInt(r.current as string),
      previous: BigInt(r.previous as string),
    }));
  }
}

/** True when both ends are UTC midnights. */
export function isDaily(period: Period): boolean {
  return period.from.getTime() % 86_400_000 === 0 && period.to.getTime() % 86_400_000 === 0;
}

/**
 * Where a team or service leaderboard reads: the daily rollup (`<prefix>_days`, by `day`) when both periods are whole
 * UTC days, else the per-window table (`<prefix>_windows`, by `window_start`); with the query parameters
 * ($1-$4 the two periods, $5 the limit) in the matching type.
 */
function rollupSource(prefix: 'cost_team' | 'cost_service', current: Period, previous: Period, limit: number) {
  return isDaily(current) && isDaily(previous)
    ? { table: `${prefix}_days`, time: 'day', cast: '::date', params: dayParams(current, previous, limit) }
    : {
        table: `${prefix}_windows`,
        time: 'window_start',
        cast: '::timestamptz',
        params: timeParams(current, previous, limit),
      };
}

function dayParams(current: Period, previous: Period, limit: number): unknown[] {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  return [day(current.from), day(current.to), day(previous.from), day(previous.to), limit];
}

function timeParams(current: Period, previous: Period, limit: number): unknown[] {
  return [current.from, current.to, previous.from, previous.to, limit];
}
