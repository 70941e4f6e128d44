import { isoDay } from '../domain/time-window';
import type { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/query-rows';
import { splitByDay, type TimeRange } from '../domain/cost';
import { BLOCK_BITS } from './function-day-state';
import { decodeSplitArrays } from './function-split.codec';

/** Which services a query covers: every one, one service, or the services a team owned at the time. */
export type Scope =
  | { readonly kind: 'org' }
  | { readonly kind: 'team'; readonly team: string }
  | { readonly kind: 'service'; readonly service: string };

/** The keys rows are grouped by; `label` needs the label key. */
export type Grouping =
  { readonly kind: 'team' } | { readonly kind: 'service' } | { readonly kind: 'label'; readonly key: string };

/** One grouped line: amounts in the current and previous ranges, CPU time in the current one. */
export interface GroupLine {
  readonly key: string;
  /** Team kind (`group`, `unowned`, `idle`) or a service's team(s); null for labels. */
  readonly detail: string | null;
  readonly current: bigint;
  readonly previous: bigint;
  readonly cpuNanoseconds: bigint;
}

/** Where a keyset page starts: strictly after (amount desc, key asc) of the last line returned. */
export interface KeysetAfter {
  readonly amount: bigint;
  readonly key: string;
}

export interface GroupPage {
  readonly lines: GroupLine[];
  /** Σ of every line (not only the page's), current and previous. */
  readonly totalCurrent: bigint;
  readonly totalPrevious: bigint;
  readonly cpuNanoseconds: bigint;
  /** Lines in all pages. */
  readonly count: number;
}

/** An amount at an instant (a day's midnight from daily rollups, a window start from hourly facts). */
export interface TimedAmount {
  readonly atMs: number;
  readonly key: string;
  readonly amount: bigint;
}

/** Which per-service copies answer a scope's whole days: (ISO week, service) rows and (day, service) rows. */
interface CopyPlan {
  readonly weeks: ReadonlyArray<{ readonly week: string; readonly serviceId: number }>;
  readonly days: ReadonlyArray<{ readonly day: string; readonly serviceId: number }>;
}

export interface FunctionAmounts {
  readonly self: bigint;
  readonly cum: bigint;
}

/** The books' figures of a range, each summed from its own table. */
export interface BooksFigures {
  readonly functionsSelf: bigint;
  readonly services: bigint;
  readonly teams: bigint;
  readonly unowned: bigint;
  readonly idleTeams: bigint;
  readonly idleWindows: bigint;
  readonly windowTotals: bigint;
  readonly measured: bigint;
  readonly allocated: bigint;
  readonly windows: number;
  readonly currencies: string[];
  readonly defaultPriced: boolean;
}

export interface ProvenanceFigures {
  readonly priceScheduleIds: string[];
  readonly catalogRevisions: string[];
  readonly priceIds: string[];
  readonly profileDigests: string[];
  readonly profileDigestCount: number;
  readonly windows: number;
}

/** Collects positional parameters while SQL is assembled. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

const EMPTY_DAY = '1970-01-01';
const DAY = 86_400_000;
/** Advisory-lock class serializing rebuilds of one day's per-service copy ("qryd"). */
const BUILD_LOCK_CLASS = 0x71727964;
/** Advisory-lock class serializing builds of one ISO week's per-service copies ("qryw"). */
const WEEK_BUILD_LOCK_CLASS = 0x71727977;

/**
 * The read side of the cost facts (docs/data-model.md, "Query service"): every SQL the cost query service runs.
 * Whole UTC days of a range read the daily rollups (`cost_service_days`, `cost_team_days`, `cost_label_days`) and
 * the function facts by day (the per-service copies, weekly where a whole ISO week allows, the organisation's board
 * lists and blocks); hours at the edges (a range shorter than a day, or the part before the first and after the
 * last midnight) read the hourly facts. Sums come back as text and are parsed as bigint: exact past 2^53.
 */
export class CostQueryRepository {
  constructor(private readonly db: DataSource) {}

  /** Grouped lines over `current` with their `previous` amounts, ranked amount desc then key asc, one keyset page. */
  async groups(
    grouping: Grouping,
    scope: Scope,
    current: TimeRange,
    previous: TimeRange,
    page: { limit: number; after: KeysetAfter | null },
  ): Promise<GroupPage> {
    const p = new Params();
    const cur = this.groupUnion(grouping, scope, current, p, true);
    const prev = this.groupUnion(grouping, scope, previous, p, false);
    const after = page.after
      ? `WHERE (z.m < ${p.add(page.after.amount.toString(), '::numeric')} OR (z.m = ${p.add(page.after.amount.toString(), '::numeric')} AND z.k COLLATE "C" > ${p.add(page.after.key, '::text')}))`
      : '';
    const rows = await queryRows<{
      k: string | null;
      d: string | null;
      m: string | null;
      p: string | null;
      c: string | null;
      tm: string | null;
      tp: string | null;
      tc: string | null;
      n: number;
    }>(
      this.db,
      `WITH cur AS (SELECT k, sum(m) AS m, sum(c) AS c, string_agg(DISTINCT d, ',' ORDER BY d) AS d FROM (${cur}) u(k, d, m, c) GROUP BY k),
            prev AS (SELECT k, sum(m) AS m FROM (${prev}) u(k, d, m, c) GROUP BY k),
            z AS (SELECT k, cur.d, coalesce(cur.m, 0) AS m, coalesce(prev.m, 0) AS p, coalesce(cur.c, 0) AS c FROM cur FULL JOIN prev USING (k)),
            tot AS (SELECT sum(m) AS tm, sum(p) AS tp, sum(c) AS tc, count(*)::int AS n FROM z)
       SELECT page.k, page.d, page.m::text, page.p::text, page.c::text, tot.tm::text, tot.tp::text, tot.tc::text, tot.n
         FROM tot LEFT JOIN LATERAL (SELECT z.* FROM z ${after} ORDER BY z.m DESC, z.k COLLATE "C" LIMIT ${p.add(page.limit, '::int')}) page ON true
        ORDER BY page.m DESC, page.k COLLATE "C"`,
      p.values,
    );
    const first = rows[0];
    return {
      lines: rows
        .filter((r) => r.k !== null)
        .map((r) => ({
          key: r.k as string,
          detail: r.d,
          current: BigInt(r.m ?? 0),
          previous: BigInt(r.p ?? 0),
          cpuNanoseconds: BigInt(r.c ?? 0),
        })),
      totalCurrent: BigInt(first?.tm ?? 0),
      totalPrevious: BigInt(first?.tp ?? 0),
      cpuNanoseconds: BigInt(first?.tc ?? 0),
      count: first?.n ?? 0,
    };
  }

  /**
   * Amounts over time of a scope (or of every team / service with `each`): per day from the rollups, per window from
   * the hourly facts where `hourly` (an hourly series) or at the range's edges.
   */
  async amountsOverTime(
    scope: Scope,
    range: TimeRange,
    options: { hourly: boolean; each?: 'team' | 'service' },
  ): Promise<TimedAmount[]> {
    const p = new Params();
    const { days, hours } = options.hourly ? { days: null, hours: [range] } : splitByDay(range);
    const parts: string[] = [];
    const teamLevel = options.each === 'team' || (options.each === undefined && scope.kind !== 'service');
    if (teamLevel) {
      // Team own amounts: with __unowned__ and __idle__ they sum to the window totals.
      const teamFilter = () => (scope.kind === 'team' ? `AND team = ${p.add(scope.team)}` : '');
      if (days)
        parts.push(
          `SELECT extract(epoch FROM day)::bigint * 1000 AS at, team AS k, own_microdollars AS m FROM cost_team_days WHERE ${dayRange(p, days)} ${teamFilter()}`,
        );
      for (const h of hours)
        parts.push(
          `SELECT extract(epoch FROM window_start)::bigint * 1000, team, own_microdollars FROM cost_team_windows WHERE ${hourRange(p, h)} ${teamFilter()}`,
        );
    } else {
      const filter = () => scopeFilter(p, scope);
      if (days)
        parts.push(
          `SELECT extract(epoch FROM day)::bigint * 1000 AS at, service AS k, microdollars AS m FROM cost_service_days WHERE ${dayRange(p, days)} ${filter()}`,
        );
      for (const h of hours)
        parts.push(
          `SELECT extract(epoch FROM window_start)::bigint * 1000, service, microdollars FROM cost_service_windows WHERE ${hourRange(p, h)} ${filter()}`,
        );
    }
    if (parts.length === 0) return [];
    const key = options.each ? 'k' : `''`;
    const rows = await queryRows<{ at: string; k: string; m: string }>(
      this.db,
      `SELECT at::text, ${key} AS k, sum(m)::text AS m FROM (${parts.join(' UNION ALL ')}) u(at, k, m) GROUP BY 1, 2 ORDER BY 1, 2`,
      p.values,
    );
    return rows.map((r) => ({ atMs: Number(r.at), key: r.k, amount: BigInt(r.m) }));
  }

  /**
   * Self and inclusive amounts per function id over `range` for the scope: whole days from the function day blocks
   * (a service's or team's blocks found through the service-id index), edge hours from the window splits. With
   * `only`, just those function ids (the previous amounts of a page).
   */
  async functionAmounts(
    scope: Scope,
    range: TimeRange,
    only?: readonly number[],
  ): Promise<Map<number, FunctionAmounts>> {
    const out = new Map<number, FunctionAmounts>();
    if (only && only.length === 0) return out;
    const { days, hours } = splitByDay(range);
    const add = (id: number, self: bigint, cum: bigint) => {
      const a = out.get(id);
      out.set(id, a ? { self: a.self + self, cum: a.cum + cum } : { self, cum });
    };
    if (days && scope.kind !== 'org') {
      const plan = await this.preparedCopies(scope, days);
      const p = new Params();
      const entries = this.entriesSql(plan, p);
      const onlyFilter = only ? `WHERE e.function_id = ANY(${p.add([...only], '::int[]')})` : '';
      const rows = await queryRows<{ f: number; s: string; c: string }>(
        this.db,
        `SELECT e.function_id AS f, sum(e.self_microdollars)::text AS s, sum(e.cum_microdollars)::text AS c
           FROM ${entries} ${onlyFilter} GROUP BY e.function_id`,
        p.values,
      );
      for (const r of rows) add(r.f, BigInt(r.s), BigInt(r.c));
    } else if (days) {
      // The whole organisation: every block of every day (exact and slow at scale; the first page of the
      // organisation's functions over whole days comes from the board lists instead).
      const p = new Params();
      const onlyFilter = only
        ? `AND b.block = ANY(${p.add([...new Set(only.map((id) => id >> BLOCK_BITS))], '::int[]')}) AND e.function_id = ANY(${p.add([...only], '::int[]')})
           AND EXISTS (SELECT 1 FROM unnest(${p.add([...only], '::int[]')}) AS o(id) WHERE o.id BETWEEN b.first_function AND b.last_function)`
        : '';
      const rows = await queryRows<{ f: number; s: string; c: string }>(
        this.db,
        `SELECT e.function_id AS f, sum(e.self_microdollars)::text AS s, sum(e.cum_microdollars)::text AS c
           FROM cost_function_day_blocks b
          CROSS JOIN LATERAL unnest(b.function_ids, b.self_microdollars, b.cum_microdollars) AS e(function_id, self_microdollars, cum_microdollars)
          WHERE ${dayRange(p, days, 'b.day')} ${onlyFilter}
          GROUP BY e.function_id`,
        p.values,
      );
      for (const r of rows) add(r.f, BigInt(r.s), BigInt(r.c));
    }
    const wanted = only ? new Set(only) : null;
    for (const h of hours) {
      for (const split of await this.splits(scope, h)) {
        const arrays = decodeSplitArrays(split);
        for (let i = 0; i < arrays.ids.length; i++) {
          const id = arrays.ids[i] as number;
          if (!wanted || wanted.has(id)) add(id, arrays.self[i] as bigint, arrays.cum[i] as bigint);
        }
      }
    }
    return out;
  }

  /**
   * A team's or a service's functions over whole `days`, ranked by `column` (amount desc, then name in byte order)
   * in SQL: the page of `count` lines after the keyset with their amounts over `previousDays` (whole days, or null
   * for none), and how many functions there are in all. What `functionAmounts` and a sort would give, without
   * sending every function of the scope (~18,000 for a team of ten services) to the process.
   */
  async rankedFunctions(
    scope: Exclude<Scope, { kind: 'org' }>,
    days: TimeRange,
    previousDays: TimeRange | null,
    column: 'self' | 'cum',
    count: number,
    after: KeysetAfter | null,
  ): Promise<{
    lines: Array<{ id: number; name: string; amounts: FunctionAmounts; previous: FunctionAmounts }>;
    total: number;
  }> {
    const [plan, previousPlan] = await Promise.all([
      this.preparedCopies(scope, days),
      previousDays ? this.preparedCopies(scope, previousDays) : Promise.resolve(null),
    ]);
    const p = new Params();
    const v = column === 'self' ? 's' : 'c';
    const keyset = after
      ? `WHERE a.${v} < ${p.add(after.amount.toString(), '::numeric')} OR (a.${v} = ${p.add(after.amount.toString(), '::numeric')}
           AND (SELECT name FROM cost_functions WHERE id = a.f) COLLATE "C" > ${p.add(after.key, '::text')})`
      : '';
    const sum = (entries: string, filter = '') =>
      `SELECT e.function_id AS f, sum(e.self_microdollars) AS s, sum(e.cum_microdollars) AS c FROM ${entries} ${filter} GROUP BY e.function_id`;
    // The count-th amount bounds the page (ties included, as names decide among them): a bounded top-N sort, not a
    // sort of every function.
    const n = p.add(count, '::int');
    const k = after ? 'k' : 'a'; // the functions after the keyset
    const rows = await queryRows<{
      f: number | null;
      name: string | null;
      s: string | null;
      c: string | null;
      ps: string | null;
      pc: string | null;
      n: number;
    }>(
      this.db,
      `WITH a AS MATERIALIZED (${sum(this.entriesSql(plan, p))}),
            ${after ? `k AS MATERIALIZED (SELECT a.* FROM a ${keyset}),` : ''}
            page AS (SELECT k.* FROM ${k} k WHERE k.${v} >= coalesce((SELECT k2.${v} FROM ${k} k2 ORDER BY k2.${v} DESC OFFSET ${n} - 1 LIMIT 1), (SELECT min(${v}) FROM ${k}))),
            prev AS (${previousPlan ? sum(this.entriesSql(previousPlan, p), 'WHERE e.function_id IN (SELECT f FROM page)') : 'SELECT NULL::int AS f, 0::numeric AS s, 0::numeric AS c WHERE false'})
       SELECT page.f, fn.name, page.s::text AS s, page.c::text AS c, coalesce(prev.s, 0)::text AS ps, coalesce(prev.c, 0)::text AS pc,
              (SELECT count(*)::int FROM a) AS n
         FROM (SELECT 1) one LEFT JOIN (page JOIN cost_functions fn ON fn.id = page.f LEFT JOIN prev ON prev.f = page.f) ON true
        ORDER BY page.${v} DESC, fn.name COLLATE "C" LIMIT ${n}`,
      p.values,
    );
    return {
      lines: rows
        .filter((r) => r.f !== null)
        .map((r) => ({
          id: r.f as number,
          name: r.name as string,
          amounts: { self: BigInt(r.s!), cum: BigInt(r.c!) },
          previous: { self: BigInt(r.ps!), cum: BigInt(r.pc!) },
        })),
      total: rows[0]?.n ?? 0,
    };
  }

  /** The per-service copies that answer a scope over whole `days`, made current (day copies, then weekly ones). */
  private async preparedCopies(scope: Exclude<Scope, { kind: 'org' }>, days: TimeRange): Promise<CopyPlan> {
    await this.ensureServiceDays(days);
    const plan = await this.servicePlan(scope, days);
    await this.ensureServiceWeeks(plan.weeks);
    return plan;
  }

  /**
   * The FROM item `<copies> CROSS JOIN LATERAL unnest(...) AS e(function_id, self_microdollars, cum_microdollars)`:
   * the entries of a plan's weekly and daily per-service copies.
   */
  private entriesSql(plan: CopyPlan, p: Params): string {
    const pairs = (dates: string[], ids: number[]) => `unnest(${p.add(dates, '::date[]')}, ${p.add(ids, '::int[]')})`;
    const weeks = pairs(
      plan.weeks.map((w) => w.week),
      plan.weeks.map((w) => w.serviceId),
    );
    const days = pairs(
      plan.days.map((d) => d.day),
      plan.days.map((d) => d.serviceId),
    );
    return `(SELECT c.function_ids, c.self_microdollars, c.cum_microdollars FROM cost_function_service_weeks c
               JOIN ${weeks} AS x(week, sid) ON c.week = x.week AND c.service_id = x.sid
             UNION ALL
             SELECT c.function_ids, c.self_microdollars, c.cum_microdollars FROM cost_function_service_days c
               JOIN ${days} AS x(day, sid) ON c.day = x.day AND c.service_id = x.sid) c
            CROSS JOIN LATERAL unnest(c.function_ids, c.self_microdollars, c.cum_microdollars) AS e(function_id, self_microdollars, cum_microdollars)`;
  }

  /**
   * Makes `cost_function_service_days` answer for every day of `days` that has function facts: a day never built,
   * or built from another state token than the one its blocks now carry, is rebuilt from its blocks (one statement
   * per day; ~2 M entries per day at 1,000 × 2,000). The state row is held FOR SHARE meanwhile, so an attribution
   * of that day waits instead of changing the blocks under the build. Returns the days rebuilt.
   */
  async ensureServiceDays(days: TimeRange): Promise<string[]> {
    const p = new Params();
    const stale = await queryRows<{ day: string }>(
      this.db,
      `SELECT s.day::text AS day FROM cost_function_day_states s LEFT JOIN cost_function_service_day_builds b ON b.day = s.day
        WHERE ${dayRange(p, days, 's.day')} AND s.pairs > 0 AND b.token IS DISTINCT FROM s.token ORDER BY s.day`,
      p.values,
    );
    for (const { day } of stale) {
      await this.db.transaction(async (tx) => {
        // Readers building the same day take turns (the second finds it built); attributions wait on FOR SHARE.
        await tx.query(`SELECT pg_advisory_xact_lock(${BUILD_LOCK_CLASS}, $1::date - date '2000-01-01')`, [day]);
        const [state] = await queryRows<{ token: string }>(
          tx,
          `SELECT token FROM cost_function_day_states WHERE day = $1::date FOR SHARE`,
          [day],
        );
        const [built] = await queryRows<{ token: string }>(
          tx,
          `SELECT token FROM cost_function_service_day_builds WHERE day = $1::date FOR UPDATE`,
          [day],
        );
        if (!state || built?.token === state.token) return; // gone meanwhile, or another reader built it
        await tx.query(`DELETE FROM cost_function_service_days WHERE day = $1::date`, [day]);
        await tx.query(
          `INSERT INTO cost_function_service_days (day, service_id, function_ids, self_microdollars, cum_microdollars, self_total)
           SELECT $1::date, e.service_id, array_agg(e.function_id ORDER BY e.function_id), array_agg(e.self_microdollars ORDER BY e.function_id),
                  array_agg(e.cum_microdollars ORDER BY e.function_id), sum(e.self_microdollars)
             FROM cost_function_day_blocks b
            CROSS JOIN LATERAL unnest(b.service_ids, b.function_ids, b.self_microdollars, b.cum_microdollars) AS e(service_id, function_id, self_microdollars, cum_microdollars)
            WHERE b.day = $1::date GROUP BY e.service_id`,
          [day],
        );
        await tx.query(
          `INSERT INTO cost_function_service_day_builds (day, token) VALUES ($1::date, $2) ON CONFLICT (day) DO UPDATE SET token = EXCLUDED.token`,
          [day, state.token],
        );
      });
    }
    if (stale.length > 0) {
      // Days whose facts are gone (retention, or emptied by a re-attribution) leave no copy behind.
      await this.db.query(
        `DELETE FROM cost_function_service_days c WHERE NOT EXISTS (SELECT 1 FROM cost_function_day_states s WHERE s.day = c.day AND s.pairs > 0)`,
      );
      await this.db.query(
        `DELETE FROM cost_function_service_day_builds c WHERE NOT EXISTS (SELECT 1 FROM cost_function_day_states s WHERE s.day = c.day AND s.pairs > 0)`,
      );
    }
    return stale.map((s) => s.day);
  }

  /**
   * Which per-service copies answer a scope's functions over whole `days`: (ISO week, service) where the week lies
   * inside the range and the service belonged to the scope on every day of it that has facts, and (day, service)
   * for the rest. A team's services are taken day by day, so a service that changed team counts where it was owned
   * at the time (its weeks with days under another team are read by day).
   */
  private async servicePlan(scope: Exclude<Scope, { kind: 'org' }>, days: TimeRange): Promise<CopyPlan> {
    const p = new Params();
    // Per (day, service): `mine` when the scope owned it that day, `whole` when nobody else did.
    let sql: string;
    if (scope.kind === 'service')
      sql = `SELECT c.day::text AS day, c.service_id AS sid, true AS mine, true AS whole FROM cost_function_service_days c
              WHERE ${dayRange(p, days, 'c.day')} AND c.service_id = (SELECT id FROM cost_services WHERE name = ${p.add(scope.service)})`;
    else {
      const team = p.add(scope.team);
      sql = `SELECT sd.day::text AS day, s.id AS sid, bool_or(sd.team = ${team}) AS mine, bool_and(sd.team = ${team}) AS whole
               FROM cost_service_days sd JOIN cost_services s ON s.name = sd.service
              WHERE ${dayRange(p, days, 'sd.day')}
                AND sd.service IN (SELECT service FROM cost_service_days WHERE ${dayRange(p, days)} AND team = ${team})
              GROUP BY sd.day, s.id`;
    }
    const rows = await queryRows<{ day: string; sid: number; mine: boolean; whole: boolean }>(this.db, sql, p.values);
    const weekOf = (day: string) => {
      const ms = Date.parse(`${day}T00:00:00Z`);
      return ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY;
    };
    // A week answers for a service when it lies inside the range and no day of it was (even partly) another team's.
    const blocked = new Set<string>();
    for (const r of rows) {
      const week = weekOf(r.day);
      if (week < days.fromMs || week + 7 * DAY > days.toMs || !r.whole) blocked.add(`${week}:${r.sid}`);
    }
    const weeks = new Map<string, { week: string; serviceId: number }>();
    const out: Array<{ day: string; serviceId: number }> = [];
    for (const r of rows) {
      if (!r.mine) continue;
      const week = weekOf(r.day);
      const key = `${week}:${r.sid}`;
      if (blocked.has(key)) out.push({ day: r.day, serviceId: r.sid });
      else if (!weeks.has(key)) weeks.set(key, { week: isoDay(new Date(week)), serviceId: r.sid });
    }
    return { weeks: [...weeks.values()], days: out };
  }

  /**
   * Makes `cost_function_service_weeks` hold the Σ of the current day copies for each (week, service) given (the day
   * copies of those weeks must be current: `ensureServiceDays` first). A row is rebuilt when its token, the week's
   * `day=build token` list, is not the week's current one. Readers building the same row at once both write the
   * same sums.
   */
  private async ensureServiceWeeks(pairs: ReadonlyArray<{ week: string; serviceId: number }>): Promise<void> {
    if (pairs.length === 0) return;
    const weeks = [...new Set(pairs.map((x) => x.week))].sort();
    // Readers building the same weeks take turns, as for the day copies: two at once (a page asks for self and
    // inclusive together) upserting the same rows in different orders deadlocked. The second finds them built.
    await this.db.transaction(async (tx) => {
      for (const week of weeks)
        await tx.query(`SELECT pg_advisory_xact_lock(${WEEK_BUILD_LOCK_CLASS}, $1::date - date '2000-01-01')`, [week]);
      await this.upsertServiceWeeks(tx, pairs);
    });
  }

  private async upsertServiceWeeks(
    tx: EntityManager,
    pairs: ReadonlyArray<{ week: string; serviceId: number }>,
  ): Promise<void> {
    await tx.query(
      `WITH want AS (SELECT * FROM unnest($1::date[], $2::int[]) AS x(week, sid)),
            tok AS (SELECT w.week, coalesce(string_agg(b.day::text || '=' || b.token, ',' ORDER BY b.day), '') AS token
                      FROM (SELECT DISTINCT week FROM want) w
                      LEFT JOIN cost_function_service_day_builds b ON b.day >= w.week AND b.day < w.week + 7
                     GROUP BY w.week),
            stale AS (SELECT want.week, want.sid, tok.token FROM want JOIN tok USING (week)
                        LEFT JOIN cost_function_service_weeks c ON c.week = want.week AND c.service_id = want.sid
                       WHERE c.token IS DISTINCT FROM tok.token)
       INSERT INTO cost_function_service_weeks (week, service_id, token, function_ids, self_microdollars, cum_microdollars)
       SELECT s.week, s.sid, s.token, coalesce(a.ids, '{}'), coalesce(a.self, '{}'), coalesce(a.cum, '{}')
         FROM stale s
         LEFT JOIN LATERAL (
           SELECT array_agg(g.f ORDER BY g.f) AS ids, array_agg(g.sv ORDER BY g.f) AS self, array_agg(g.cv ORDER BY g.f) AS cum
             FROM (SELECT e.function_id AS f, sum(e.self_microdollars)::bigint AS sv, sum(e.cum_microdollars)::bigint AS cv
                     FROM cost_function_service_days c
                    CROSS JOIN LATERAL unnest(c.function_ids, c.self_microdollars, c.cum_microdollars) AS e(function_id, self_microdollars, cum_microdollars)
                    WHERE c.service_id = s.sid AND c.day >= s.week AND c.day < s.week + 7
                    GROUP BY e.function_id) g) a ON true
       ON CONFLICT (week, service_id) DO UPDATE SET token = EXCLUDED.token, function_ids = EXCLUDED.function_ids,
         self_microdollars = EXCLUDED.self_microdollars, cum_microdollars = EXCLUDED.cum_microdollars`,
      [pairs.map((x) => x.week), pairs.map((x) => x.serviceId)],
    );
  }

  /** Retention: drops the per-service day copies of days before `before` (their blocks are dropped by month). */
  async deleteServiceDaysBefore(before: Date): Promise<number> {
    const rows = await queryRows<unknown>(
      this.db,
      `DELETE FROM cost_function_service_days WHERE day < $1::date RETURNING day`,
      [isoDay(before)],
    );
    await this.db.query(`DELETE FROM cost_function_service_day_builds WHERE day < $1::date`, [isoDay(before)]);
    // A week that starts before the cutoff holds dropped days; it is rebuilt from what remains if read again.
    await this.db.query(`DELETE FROM cost_function_service_weeks WHERE week < $1::date`, [isoDay(before)]);
    return rows.length;
  }

  /** Per service: one function's self and inclusive amounts over the range (the cross-service view). */
  async functionByService(functionId: number, range: TimeRange): Promise<Map<string, FunctionAmounts>> {
    const out = new Map<string, FunctionAmounts>();
    const add = (service: string, self: bigint, cum: bigint) => {
      const a = out.get(service);
      out.set(service, a ? { self: a.self + self, cum: a.cum + cum } : { self, cum });
    };
    const { days, hours } = splitByDay(range);
    if (days) {
      const p = new Params();
      const slice = functionSlice(p, days, functionId);
      // Summed by service id first: the names are joined to 1,000 sums, not to every day's entries.
      const rows = await queryRows<{ service: string; s: string; c: string }>(
        this.db,
        `SELECT s.name AS service, a.s::text AS s, a.c::text AS c
           FROM (SELECT e.service_id, sum(e.self_microdollars) AS s, sum(e.cum_microdollars) AS c
                   FROM ${slice.from} WHERE ${slice.where} GROUP BY e.service_id) a
           JOIN cost_services s ON s.id = a.service_id`,
        p.values,
      );
      for (const r of rows) add(r.service, BigInt(r.s), BigInt(r.c));
    }
    for (const h of hours) {
      const p = new Params();
      const rows = await queryRows<{ service: string; split: Buffer }>(
        this.db,
        `SELECT service, split FROM cost_function_splits WHERE ${hourRange(p, h)}`,
        p.values,
      );
      for (const r of rows) {
        const arrays = decodeSplitArrays(r.split);
        const i = binarySearch(arrays.ids, functionId);
        if (i >= 0) add(r.service, arrays.self[i] as bigint, arrays.cum[i] as bigint);
      }
    }
    return out;
  }

  /** One function's self amount over time (per day, or per window at the edges / for an hourly series). */
  async functionOverTime(
    functionId: number,
    service: string | null,
    range: TimeRange,
    hourly: boolean,
  ): Promise<TimedAmount[]> {
    const { days, hours } = hourly ? { days: null, hours: [range] } : splitByDay(range);
    const out: TimedAmount[] = [];
    if (days) {
      const p = new Params();
      let sql: string;
      if (service !== null) {
        // One service: its per-service copy of each day (2,000 entries), not the function's block (one entry per
        // service running it: ~200,000 for a function every service runs).
        await this.ensureServiceDays(days);
        const fid = p.add(functionId, '::int');
        sql = `SELECT (extract(epoch FROM c.day)::bigint * 1000)::text AS at, c.self_microdollars[array_position(c.function_ids, ${fid})]::text AS s
                 FROM cost_function_service_days c
                WHERE ${dayRange(p, days, 'c.day')} AND c.service_id = (SELECT id FROM cost_services WHERE name = ${p.add(service)})
                  AND ${fid} = ANY(c.function_ids)
                ORDER BY c.day`;
      } else {
        // The organisation: a day whose cross-service board list holds the function has its exact amount there.
        const slice = functionSlice(p, days, functionId);
        sql = `WITH listed AS (
                 SELECT DISTINCT ON (day) day, self_microdollars FROM cost_function_day_tops
                  WHERE ${dayRange(p, days)} AND board IN ('cross-self', 'cross-inclusive') AND function_id = ${p.add(functionId, '::int')})
               SELECT (extract(epoch FROM day)::bigint * 1000)::text AS at, s::text AS s FROM (
                 SELECT day, self_microdollars::numeric AS s FROM listed
                 UNION ALL
                 SELECT b.day, sum(e.self_microdollars) FROM ${slice.from}
                  WHERE ${slice.where} AND b.day NOT IN (SELECT day FROM listed) GROUP BY b.day) u
               ORDER BY day`;
      }
      const rows = await queryRows<{ at: string; s: string }>(this.db, sql, p.values);
      for (const r of rows) out.push({ atMs: Number(r.at), key: '', amount: BigInt(r.s) });
    }
    for (const h of hours) {
      const p = new Params();
      const filter = service === null ? '' : `AND service = ${p.add(service)}`;
      const rows = await queryRows<{ at: string; split: Buffer }>(
        this.db,
        `SELECT (extract(epoch FROM window_start)::bigint * 1000)::text AS at, split FROM cost_function_splits WHERE ${hourRange(p, h)} ${filter}`,
        p.values,
      );
      for (const r of rows) {
        const arrays = decodeSplitArrays(r.split);
        const i = binarySearch(arrays.ids, functionId);
        if (i >= 0) out.push({ atMs: Number(r.at), key: '', amount: arrays.self[i] as bigint });
      }
    }
    return out;
  }

  /**
   * Each figure of the books over the range, from its own table. Σ functions of whole days is the Σ of the
   * per-service copies of the day blocks (rebuilt first when a day's blocks changed).
   */
  async books(range: TimeRange): Promise<BooksFigures> {
    const p = new Params();
    const { days, hours } = splitByDay(range);
    if (days) await this.ensureServiceDays(days);
    const d = days ?? { fromMs: 0, toMs: 0 };
    const hourly = (column: string, table: string, where = '') =>
      hours.length === 0
        ? '0'
        : `(SELECT coalesce(sum(${column}), 0) FROM ${table} WHERE (${hours.map((h) => hourRange(p, h)).join(' OR ')}) ${where})`;
    const dr = () => dayRange(p, d);
    const [row] = await queryRows<Record<string, string>>(
      this.db,
      `SELECT
         ((SELECT coalesce(sum(self_total), 0) FROM cost_function_service_days WHERE ${dayRange(p, d)})
           + ${hourly('self_microdollars', 'cost_function_splits')})::text AS functions,
         ((SELECT coalesce(sum(microdollars), 0) FROM cost_service_days WHERE ${dr()}) + ${hourly('microdollars', 'cost_service_windows')})::text AS services,
         ((SELECT coalesce(sum(own_microdollars), 0) FROM cost_team_days WHERE ${dr()} AND kind = 'group') + ${hourly('own_microdollars', 'cost_team_windows', `AND kind = 'group'`)})::text AS teams,
         ((SELECT coalesce(sum(own_microdollars), 0) FROM cost_team_days WHERE ${dr()} AND kind = 'unowned') + ${hourly('own_microdollars', 'cost_team_windows', `AND kind = 'unowned'`)})::text AS unowned,
         ((SELECT coalesce(sum(own_microdollars), 0) FROM cost_team_days WHERE ${dr()} AND kind = 'idle') + ${hourly('own_microdollars', 'cost_team_windows', `AND kind = 'idle'`)})::text AS idle_teams`,
      p.values,
    );
    const q = new Params();
    const [w] = await queryRows<{
      total: string | null;
      idle: string | null;
      n: number;
      currencies: string[] | null;
      default_priced: boolean | null;
    }>(
      this.db,
      `SELECT sum(total_microdollars)::text AS total, sum(idle_microdollars)::text AS idle, count(*)::int AS n,
              array_agg(DISTINCT currency) AS currencies, bool_or(default_priced) AS default_priced
         FROM cost_windows WHERE ${hourRange(q, range)}`,
      q.values,
    );
    // Measured vs allocated lives only on the hourly service rows (the day rollups do not keep the mode).
    const m = new Params();
    const modes = await queryRows<{ mode: string; s: string }>(
      this.db,
      `SELECT mode, sum(microdollars)::text AS s FROM cost_service_windows WHERE ${hourRange(m, range)} GROUP BY mode`,
      m.values,
    );
    return {
      functionsSelf: BigInt(row?.functions ?? 0),
      services: BigInt(row?.services ?? 0),
      teams: BigInt(row?.teams ?? 0),
      unowned: BigInt(row?.unowned ?? 0),
      idleTeams: BigInt(row?.idle_teams ?? 0),
      idleWindows: BigInt(w?.idle ?? 0),
      windowTotals: BigInt(w?.total ?? 0),
      measured: BigInt(modes.find((x) => x.mode === 'measured')?.s ?? 0),
      allocated: BigInt(modes.find((x) => x.mode === 'allocated')?.s ?? 0),
      windows: w?.n ?? 0,
      currencies: (w?.currencies ?? []).filter((c) => c !== null),
      defaultPriced: w?.default_priced ?? false,
    };
  }

  /** Where the figures of a scope over a range came from (hourly rows only carry provenance). */
  async provenance(scope: Scope, range: TimeRange, digestLimit: number): Promise<ProvenanceFigures> {
    const p = new Params();
    // Whole days from the daily provenance rollup (lists already distinct per service-day), the edges from the hourly
    // rows; the windows (price schedule, catalog revision) from the window headers.
    const { days, hours } = splitByDay(range);
    const sources = [
      ...(days
        ? [
            `SELECT price_ids, profile_digests FROM cost_provenance_days WHERE ${dayRange(p, days)} ${scopeFilter(p, scope)}`,
          ]
        : []),
      ...hours.map(
        (h) =>
          `SELECT price_ids, profile_digests FROM cost_service_windows WHERE ${hourRange(p, h)} ${scopeFilter(p, scope)}`,
      ),
    ];
    const windows =
      scope.kind === 'org'
        ? `SELECT * FROM cost_windows WHERE ${hourRange(p, range)}`
        : `SELECT * FROM cost_windows WHERE window_start IN (
             SELECT window_start FROM cost_service_windows WHERE ${hourRange(p, range)} ${scopeFilter(p, scope)})`;
    const [row] = await queryRows<{
      schedules: string[] | null;
      revisions: string[] | null;
      price_ids: string[] | null;
      digests: string[] | null;
      digest_count: number;
      windows: number;
    }>(
      this.db,
      `WITH s AS MATERIALIZED (${sources.length > 0 ? sources.join(' UNION ALL ') : 'SELECT NULL::text[] AS price_ids, NULL::text[] AS profile_digests WHERE false'}),
            w AS (${windows}),
            d AS MATERIALIZED (SELECT DISTINCT unnest(profile_digests) AS digest FROM s)
       SELECT (SELECT array_agg(DISTINCT price_schedule_id ORDER BY price_schedule_id) FROM w) AS schedules,
              (SELECT array_agg(DISTINCT catalog_revision ORDER BY catalog_revision) FROM w WHERE catalog_revision IS NOT NULL) AS revisions,
              (SELECT array_agg(x ORDER BY x) FROM (SELECT DISTINCT unnest(price_ids) AS x FROM s) y) AS price_ids,
              (SELECT array_agg(digest ORDER BY digest) FROM (SELECT digest FROM d ORDER BY digest LIMIT ${p.add(digestLimit, '::int')}) l) AS digests,
              (SELECT count(*)::int FROM d) AS digest_count,
              (SELECT count(*)::int FROM w) AS windows`,
      p.values,
    );
    return {
      priceScheduleIds: row?.schedules ?? [],
      catalogRevisions: row?.revisions ?? [],
      priceIds: row?.price_ids ?? [],
      profileDigests: row?.digests ?? [],
      profileDigestCount: row?.digest_count ?? 0,
      windows: row?.windows ?? 0,
    };
  }

  /** The id of a function name, or null when no fact ever named it (read only: never inserts). */
  async functionId(name: string): Promise<number | null> {
    const [row] = await queryRows<{ id: number }>(this.db, `SELECT id FROM cost_functions WHERE name = $1`, [name]);
    return row?.id ?? null;
  }

  /** The window splits of the scope's services in an hourly range. */
  private async splits(scope: Scope, range: TimeRange): Promise<Buffer[]> {
    const p = new Params();
    const filter =
      scope.kind === 'service'
        ? `AND f.service = ${p.add(scope.service)}`
        : scope.kind === 'team'
          ? `AND (f.window_start, f.service) IN (SELECT window_start, service FROM cost_service_windows s WHERE ${hourRange(p, range, 's.window_start')} AND s.team = ${p.add(scope.team)})`
          : '';
    const rows = await queryRows<{ split: Buffer }>(
      this.db,
      `SELECT f.split FROM cost_function_splits f WHERE ${hourRange(p, range, 'f.window_start')} ${filter}`,
      p.values,
    );
    return rows.map((r) => r.split);
  }

  /**
   * Per service, its cost split by the values of one label over a range (whole days from the daily label rollup, the
   * hourly edges from the window rows): what the FOCUS export tags rows with. Values with a zero amount are left out.
   */
  async serviceLabelAmounts(key: string, range: TimeRange): Promise<Map<string, Map<string, bigint>>> {
    const out = new Map<string, Map<string, bigint>>();
    if (range.toMs <= range.fromMs) return out;
    const p = new Params();
    const { days, hours } = splitByDay(range);
    const parts: string[] = [];
    if (days)
      parts.push(
        `SELECT service, label_value, microdollars FROM cost_label_days WHERE label_key = ${p.add(key)} AND ${dayRange(p, days)}`,
      );
    for (const h of hours)
      parts.push(
        `SELECT service, label_value, microdollars FROM cost_label_windows WHERE label_key = ${p.add(key)} AND ${hourRange(p, h)}`,
      );
    if (parts.length === 0) return out;
    const rows = await queryRows<{ service: string; label_value: string; m: string }>(
      this.db,
      `SELECT service, label_value, sum(microdollars)::text AS m FROM (${parts.join(' UNION ALL ')}) x
        GROUP BY service, label_value HAVING sum(microdollars) <> 0`,
      p.values,
    );
    for (const r of rows) {
      const values = out.get(r.service) ?? new Map<string, bigint>();
      values.set(r.label_value, BigInt(r.m));
      out.set(r.service, values);
    }
    return out;
  }

  /** The SQL of one range's (key, detail, amount, cpu) lines of a grouping, daily part and hourly edges. */
  private groupUnion(grouping: Grouping, scope: Scope, range: TimeRange, p: Params, withCpu: boolean): string {
    const parts: string[] = [];
    if (grouping.kind === 'label') {
      if (range.toMs <= range.fromMs)
        return `SELECT NULL::text AS k, NULL::text AS d, 0::bigint AS m, 0::bigint AS c WHERE false`;
      const { days, hours } = splitByDay(range);
      const dayFilter = () => scopeFilter(p, scope);
      if (days)
        parts.push(
          `SELECT label_value AS k, NULL::text AS d, microdollars AS m, 0::bigint AS c FROM cost_label_days
            WHERE label_key = ${p.add(grouping.key)} AND ${dayRange(p, days)} ${dayFilter()}`,
        );
      for (const h of hours) {
        const teamJoin = scope.kind === 'team' ? `JOIN cost_service_windows s USING (window_start, service)` : '';
        const filter = scopeFilter(p, scope, { team: 's.team', service: 'l.service' });
        parts.push(
          `SELECT l.label_value, NULL::text, l.microdollars, 0::bigint FROM cost_label_windows l ${teamJoin}
            WHERE l.label_key = ${p.add(grouping.key)} AND ${hourRange(p, h, 'l.window_start')} ${filter}`,
        );
      }
      return parts.length > 0
        ? parts.join(' UNION ALL ')
        : `SELECT NULL::text AS k, NULL::text AS d, 0::bigint AS m, 0::bigint AS c WHERE false`;
    }
    const { days, hours } = splitByDay(range);
    const cpu = withCpu ? 'cpu_nanoseconds' : '0::bigint';
    if (grouping.kind === 'service') {
      const filter = () => scopeFilter(p, scope);
      if (days)
        parts.push(
          `SELECT service AS k, team AS d, microdollars AS m, ${cpu} AS c FROM cost_service_days WHERE ${dayRange(p, days)} ${filter()}`,
        );
      for (const h of hours)
        parts.push(
          `SELECT service, team, microdollars, ${cpu} FROM cost_service_windows WHERE ${hourRange(p, h)} ${filter()}`,
        );
    } else {
      if (scope.kind === 'service') throw new RangeError('team lines of one service: ask for service lines instead');
      const filter = () => (scope.kind === 'team' ? `AND team = ${p.add(scope.team)}` : '');
      // Own amounts (with __unowned__ and __idle__ they sum to the total); CPU of the services each team owned.
      if (days) {
        parts.push(
          `SELECT team AS k, kind AS d, own_microdollars AS m, 0::bigint AS c FROM cost_team_days WHERE ${dayRange(p, days)} ${filter()}`,
        );
        if (withCpu)
          parts.push(
            `SELECT team, NULL, 0, cpu_nanoseconds FROM cost_service_days WHERE ${dayRange(p, days)} ${filter()}`,
          );
      }
      for (const h of hours) {
        parts.push(
          `SELECT team, kind, own_microdollars, 0 FROM cost_team_windows WHERE ${hourRange(p, h)} ${filter()}`,
        );
        if (withCpu)
          parts.push(
            `SELECT team, NULL, 0, cpu_nanoseconds FROM cost_service_windows WHERE ${hourRange(p, h)} ${filter()}`,
          );
      }
    }
    return parts.length > 0
      ? parts.join(' UNION ALL ')
      : `SELECT NULL::text AS k, NULL::text AS d, 0::bigint AS m, 0::bigint AS c WHERE false`;
  }
}

/**
 * `FROM` items yielding `b.day` and `e(service_id, self_microdollars, cum_microdollars)`: one function's entries in
 * its block over whole days. A block orders its entries by function id then service id, so a function's entries are
 * one slice of the arrays: only that slice is unnested (the block of a function every service runs holds ~200,000
 * entries at 1,000 services).
 */
function functionSlice(p: Params, days: TimeRange, functionId: number): { from: string; where: string } {
  const fid = p.add(functionId, '::int');
  const from = `cost_function_day_blocks b
          CROSS JOIN LATERAL (SELECT array_positions(b.function_ids, ${fid}) AS pos) x
          CROSS JOIN LATERAL unnest(b.service_ids[x.pos[1]:x.pos[cardinality(x.pos)]], b.self_microdollars[x.pos[1]:x.pos[cardinality(x.pos)]],
                                    b.cum_microdollars[x.pos[1]:x.pos[cardinality(x.pos)]]) AS e(service_id, self_microdollars, cum_microdollars)`;
  return {
    from,
    // Each day named (the key's (day, block) prefix finds the parts), and the part's function range tested before the
    // arrays: only the parts holding the function are detoasted.
    where: `b.day = ANY(${p.add(daysOf(days), '::date[]')}) AND b.block = ${p.add(functionId >> BLOCK_BITS, '::int')} AND ${fid} BETWEEN b.first_function AND b.last_function AND cardinality(x.pos) > 0`,
  };
}

/** The scope as a condition on a team and a service column (`AND team = $n`, `AND service = $n`); '' for the organisation. */
function scopeFilter(p: Params, scope: Scope, columns = { team: 'team', service: 'service' }): string {
  if (scope.kind === 'team') return `AND ${columns.team} = ${p.add(scope.team)}`;
  if (scope.kind === 'service') return `AND ${columns.service} = ${p.add(scope.service)}`;
  return '';
}

/** Every UTC day of a range of whole days, as `YYYY-MM-DD`. */
function daysOf(range: TimeRange): string[] {
  const out: string[] = [];
  for (let ms = range.fromMs; ms < range.toMs; ms += DAY) out.push(new Date(ms).toISOString().slice(0, 10));
  return out;
}

function dayRange(p: Params, range: TimeRange, column = 'day'): string {
  const day = (ms: number) => (ms === 0 ? EMPTY_DAY : new Date(ms).toISOString().slice(0, 10));
  return `${column} >= ${p.add(day(range.fromMs), '::date')} AND ${column} < ${p.add(day(range.toMs), '::date')}`;
}

function hourRange(p: Params, range: TimeRange, column = 'window_start'): string {
  return `${column} >= ${p.add(new Date(range.fromMs), '::timestamptz')} AND ${column} < ${p.add(new Date(range.toMs), '::timestamptz')}`;
}

function binarySearch(ids: Int32Array, id: number): number {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = ids[mid] as number;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
