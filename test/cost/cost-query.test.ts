import { beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { CostQueryRepository } from '../../src/cost/cost-query.repository';
import { CostQueryService, type RowsAnswer, type Scope } from '../../src/cost/cost-query.service';
import { decodeSplitArrays } from '../../src/cost/function-split.codec';
import { FunctionDictionary } from '../../src/cost/function-dictionary';
import { LeaderboardRepository } from '../../src/cost/leaderboard.repository';
import type { Step } from '../../src/domain/cost';
import { testDataSource, truncateTables } from '../support/database';
import {
  attribute,
  attributionService,
  demoProfiles,
  HOUR,
  loadExampleCatalog,
  storeProfile,
  type DemoProfile,
} from './support';

const DAY = 24 * HOUR;
const d = (iso: string) => new Date(iso);
/** After every stored window: nothing is partial unless a test says so. */
const LATER = Date.parse('2027-01-01T00:00:00Z');

let db: DataSource;
let demo: DemoProfile[];
let windows: number[];

/**
 * The real demo profiles (6 services × 6 windows of 2026-11-21 06:00-12:00, Saturday of ISO week 2026-W47), and
 * copies of some of them one week earlier (2026-11-14), on the next Monday (2026-11-23, week 48), the evening
 * before (2026-11-20 22:00-23:00, so hourly edges around a midnight hold data) and in October (2026-10-21), all
 * attributed through the real service. The oracles are sums of the stored hourly facts.
 */
beforeAll(async () => {
  db = await testDataSource();
  await truncateTables(db);
  await loadExampleCatalog(db);
  demo = demoProfiles();
  const shifted = (hours: number[], by: number) =>
    demo
      .filter((p) => hours.includes(p.start.getUTCHours()))
      .map((p) => ({ p, start: new Date(p.start.getTime() + by) }));
  const placed = [
    ...demo.map((p) => ({ p, start: p.start })),
    ...shifted([6, 7, 8], -7 * DAY),
    ...shifted([6, 9], 2 * DAY),
    ...shifted([10, 11], -12 * HOUR),
    ...shifted([6, 7], -31 * DAY),
  ];
  for (const { p, start } of placed) await storeProfile(db, p, { start });
  windows = [...new Set(placed.map((x) => x.start.getTime()))].sort((a, b) => a - b);
  const service = attributionService(db);
  for (const start of windows) await attribute(db, service, new Date(start));
}, 240_000);

function queries(now = LATER): CostQueryService {
  return new CostQueryService(
    new CostQueryRepository(db),
    new LeaderboardRepository(db),
    new FunctionDictionary(db),
    () => now,
  );
}

/** Σ of an hourly fact table's column per key over [from, to). */
async function hourlySums(sql: string, from: Date, to: Date, extra: unknown[] = []): Promise<Map<string, bigint>> {
  const rows = (await db.query(sql, [from, to, ...extra])) as Array<{ k: string; m: string }>;
  return new Map(rows.map((r) => [r.k, BigInt(r.m)]));
}

const SERVICE_SUMS = `SELECT service AS k, sum(microdollars)::text AS m FROM cost_service_windows WHERE window_start >= $1 AND window_start < $2 GROUP BY 1`;
const TEAM_SUMS = `SELECT team AS k, sum(own_microdollars)::text AS m FROM cost_team_windows WHERE window_start >= $1 AND window_start < $2 GROUP BY 1`;
const LABEL_SUMS = `SELECT label_value AS k, sum(microdollars)::text AS m FROM cost_label_windows WHERE window_start >= $1 AND window_start < $2 AND label_key = $3 GROUP BY 1`;

/** Per function name, Σ self and Σ cum of the decoded window splits of a service over [from, to). */
async function splitSums(
  service: string | null,
  from: Date,
  to: Date,
): Promise<Map<string, { self: bigint; cum: bigint }>> {
  const rows = (await db.query(
    `SELECT split FROM cost_function_splits WHERE window_start >= $1 AND window_start < $2 AND ($3::text IS NULL OR service = $3)`,
    [from, to, service],
  )) as Array<{ split: Buffer }>;
  const byId = new Map<number, { self: bigint; cum: bigint }>();
  for (const r of rows) {
    const a = decodeSplitArrays(r.split);
    a.ids.forEach((id, i) => {
      const prev = byId.get(id) ?? { self: 0n, cum: 0n };
      byId.set(id, { self: prev.self + a.self[i]!, cum: prev.cum + a.cum[i]! });
    });
  }
  const names = await new FunctionDictionary(db).namesOf(byId.keys());
  return new Map([...byId].map(([id, v]) => [names.get(id)!, v]));
}

const asMap = (answer: RowsAnswer, column: 'cost' | 'previous' = 'cost') =>
  new Map(answer.rows.filter((r) => r[column] !== 0n).map((r) => [r.key, r[column]]));
const sum = (m: Map<string, bigint>) => [...m.values()].reduce((a, b) => a + b, 0n);

/** Every page of a rows query, following the cursor with a small page size. */
async function allPages(
  q: CostQueryService,
  request: Parameters<CostQueryService['rows']>[0],
): Promise<RowsAnswer['rows']> {
  const out: Array<RowsAnswer['rows'][number]> = [];
  let cursor: string | null = null;
  for (let i = 0; i < 10_000; i++) {
    const page: RowsAnswer = await q.rows({ ...request, cursor });
    out.push(...page.rows);
    cursor = page.nextCursor;
    if (cursor === null) return out;
  }
  throw new Error('cursor never ended');
}

const WEEK47 = { from: d('2026-11-16T00:00:00Z'), to: d('2026-11-23T00:00:00Z'), step: 'week' as Step };
/** Whole days (21st, 22nd) with hourly edges on both sides, each holding windows. */
const EDGES = { from: d('2026-11-20T22:00:00Z'), to: d('2026-11-23T07:00:00Z'), step: 'hour' as Step };

describe('CostQueryService on PostgreSQL with the real demo profiles', () => {
  it('rows by service, team and label equal the sums of the stored hourly facts, current and previous', async () => {
    const q = queries();
    for (const period of [
      WEEK47,
      EDGES,
      { from: d('2026-11-01T00:00:00Z'), to: d('2026-12-01T00:00:00Z'), step: 'month' as Step },
    ]) {
      const prevFrom =
        period.step === 'month' ? d('2026-10-01T00:00:00Z') : new Date(2 * period.from.getTime() - period.to.getTime());
      for (const [groupBy, sql, extra] of [
        ['service', SERVICE_SUMS, []],
        ['team', TEAM_SUMS, []],
        ['label:endpoint', LABEL_SUMS, ['endpoint']],
      ] as const) {
        const answer = await q.rows({ ...period, groupBy, limit: 1000 });
        const expected = await hourlySums(sql, period.from, period.to, [...extra]);
        const expectedPrevious = await hourlySums(sql, prevFrom, period.from, [...extra]);
        expect(asMap(answer)).toEqual(new Map([...expected].filter(([, v]) => v !== 0n)));
        expect(asMap(answer, 'previous')).toEqual(new Map([...expectedPrevious].filter(([, v]) => v !== 0n)));
        expect(answer.total.cost).toBe(sum(expected));
        expect(answer.total.previous).toBe(sum(expectedPrevious));
        expect(answer.total.cost).toBeGreaterThan(0n);
      }
    }
    // Team rows hold __unowned__ (search has no catalog entry) and __idle__, and sum to the window totals.
    const teams = await q.rows({ ...WEEK47, groupBy: 'team' });
    expect(teams.rows.map((r) => r.key)).toEqual(expect.arrayContaining(['__unowned__', '__idle__', 'payments']));
    const [w] = (await db.query(
      `SELECT sum(total_microdollars)::text AS t FROM cost_windows WHERE window_start >= $1 AND window_start < $2`,
      [WEEK47.from, WEEK47.to],
    )) as Array<{ t: string }>;
    expect(teams.total.cost).toBe(BigInt(w!.t));
    const payments = teams.rows.find((r) => r.key === 'payments')!;
    expect(payments.change.amount).toBe(payments.cost - payments.previous);
    expect(payments.cpuNanoseconds).toBeGreaterThan(0n);
  });

  it('label rows of a team and of a service equal the hourly label facts; the daily label rollup holds their sums', async () => {
    const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM cost_label_days`)) as [{ n: number }];
    expect(n).toBeGreaterThan(0);
    const rollup = await db.query(
      `SELECT day::text, service, team, label_key, label_value, microdollars::text FROM cost_label_days ORDER BY 1, 2, 3, 4, 5`,
    );
    const sums = await db.query(
      `SELECT ((l.window_start AT TIME ZONE 'UTC')::date)::text AS day, l.service, s.team, l.label_key, l.label_value, sum(l.microdollars)::text AS microdollars
         FROM cost_label_windows l JOIN cost_service_windows s USING (window_start, service) GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`,
    );
    expect(rollup).toEqual(sums);
    const q = queries();
    const scoped = `SELECT l.label_value AS k, sum(l.microdollars)::text AS m FROM cost_label_windows l JOIN cost_service_windows s USING (window_start, service)
                     WHERE l.window_start >= $1 AND l.window_start < $2 AND l.label_key = $3 AND (s.team = $4 OR l.service = $4) GROUP BY 1`;
    let compared = 0;
    for (const period of [
      WEEK47,
      EDGES,
      { from: d('2026-11-01T00:00:00Z'), to: d('2026-12-01T00:00:00Z'), step: 'month' as Step },
    ]) {
      const prevFrom =
        period.step === 'month' ? d('2026-10-01T00:00:00Z') : new Date(2 * period.from.getTime() - period.to.getTime());
      for (const scope of [
        { kind: 'team', team: 'payments' },
        { kind: 'service', service: 'checkout' },
      ] as const)
        for (const key of ['endpoint', 'version']) {
          const name = scope.kind === 'team' ? scope.team : scope.service;
          const answer = await q.rows({ ...period, groupBy: `label:${key}`, scope, limit: 1000 });
          const expected = await hourlySums(scoped, period.from, period.to, [key, name]);
          const expectedPrevious = await hourlySums(scoped, prevFrom, period.from, [key, name]);
          expect(asMap(answer)).toEqual(new Map([...expected].filter(([, v]) => v !== 0n)));
          expect(asMap(answer, 'previous')).toEqual(new Map([...expectedPrevious].filter(([, v]) => v !== 0n)));
          expect(answer.total.cost).toBe(sum(expected));
          compared += expected.size;
        }
    }
    expect(compared).toBeGreaterThan(10);
  });

  it('orders by amount then key and pages with a cursor through exactly the rows of one big page', async () => {
    const q = queries();
    for (const groupBy of ['service', 'team', 'label:endpoint', 'function'] as const) {
      const scope: Scope | undefined = groupBy === 'function' ? { kind: 'service', service: 'checkout' } : undefined;
      const whole = await q.rows({ ...WEEK47, groupBy, scope, limit: 1000 });
      expect(whole.nextCursor).toBeNull();
      for (let i = 1; i < whole.rows.length; i++) {
        const [a, b] = [whole.rows[i - 1]!, whole.rows[i]!];
        expect(a.cost > b.cost || (a.cost === b.cost && a.key < b.key)).toBe(true);
      }
      expect(await allPages(q, { ...WEEK47, groupBy, scope, limit: 3 })).toEqual(whole.rows);
    }
  });

  it('weekly per-service copies hold the sums of their days; a service owned by another team on a day of the week is read by day', async () => {
    const q = queries();
    const self = (answer: RowsAnswer) => asMap(answer);
    const payments = (await db.query(
      `SELECT DISTINCT service FROM cost_service_windows WHERE team = 'payments' AND window_start >= $1 AND window_start < $2`,
      [WEEK47.from, WEEK47.to],
    )) as Array<{ service: string }>;
    expect(payments.map((r) => r.service)).toContain('checkout');
    const splitsOf = async (parts: Array<[string, Date, Date]>) => {
      const out = new Map<string, bigint>();
      for (const [service, from, to] of parts)
        for (const [name, v] of await splitSums(service, from, to)) out.set(name, (out.get(name) ?? 0n) + v.self);
      return new Map([...out].filter(([, v]) => v !== 0n));
    };
    const team = { kind: 'team', team: 'payments' } as const;
    expect(self(await q.topFunctions({ ...WEEK47, scope: team, by: 'self', limit: 1000 }))).toEqual(
      await splitsOf(payments.map((r) => [r.service, WEEK47.from, WEEK47.to])),
    );
    const weeks = (await db.query(
      `SELECT w.service_id, e.f, e.s::text, e.c::text FROM cost_function_service_weeks w, unnest(w.function_ids, w.self_microdollars, w.cum_microdollars) e(f, s, c)
        WHERE w.week = '2026-11-16' ORDER BY 1, 2`,
    )) as unknown[];
    expect(weeks.length).toBeGreaterThan(0);
    expect(weeks).toEqual(
      await db.query(
        `SELECT c.service_id, e.f, sum(e.s)::text AS s, sum(e.c)::text AS c FROM cost_function_service_days c, unnest(c.function_ids, c.self_microdollars, c.cum_microdollars) e(f, s, c)
          WHERE c.day >= '2026-11-16' AND c.day < '2026-11-23' AND c.service_id IN (SELECT service_id FROM cost_function_service_weeks WHERE week = '2026-11-16')
          GROUP BY 1, 2 ORDER BY 1, 2`,
      ),
    );
    // checkout belonged to another team on the evening of the 20th: its week is read day by day, each day where owned.
    await db.query(`UPDATE cost_service_days SET team = 'elsewhere' WHERE day = '2026-11-20' AND service = 'checkout'`);
    try {
      const midnight = d('2026-11-21T00:00:00Z');
      expect(self(await q.topFunctions({ ...WEEK47, scope: team, by: 'self', limit: 1000 }))).toEqual(
        await splitsOf(
          payments.map((r) =>
            r.service === 'checkout' ? [r.service, midnight, WEEK47.to] : [r.service, WEEK47.from, WEEK47.to],
          ),
        ),
      );
      const elsewhere = await q.topFunctions({
        ...WEEK47,
        scope: { kind: 'team', team: 'elsewhere' },
        by: 'self',
        limit: 1000,
      });
      expect(self(elsewhere)).toEqual(await splitsOf([['checkout', WEEK47.from, midnight]]));
      expect(elsewhere.rows.length).toBeGreaterThan(0);
    } finally {
      await db.query(
        `UPDATE cost_service_days SET team = 'payments' WHERE day = '2026-11-20' AND service = 'checkout'`,
      );
    }
  });

  it('top functions of a service and of a team equal the decoded window splits, over whole days and hourly edges', async () => {
    const q = queries();
    for (const period of [WEEK47, EDGES]) {
      for (const by of ['self', 'inclusive'] as const) {
        const top = await q.topFunctions({
          ...period,
          scope: { kind: 'service', service: 'checkout' },
          by,
          limit: 1000,
        });
        const expected = await splitSums('checkout', period.from, period.to);
        expect(new Map(top.rows.map((r) => [r.key, by === 'self' ? r.cost : r.inclusive]))).toEqual(
          new Map([...expected].map(([k, v]) => [k, by === 'self' ? v.self : v.cum])),
        );
        expect(top.total.cost).toBe(sum(new Map([...expected].map(([k, v]) => [k, v.self]))));
      }
      // payments owns checkout, payments-api and ledger.
      const team = await q.topFunctions({
        ...period,
        scope: { kind: 'team', team: 'payments' },
        by: 'self',
        limit: 1000,
      });
      const expected = new Map<string, bigint>();
      for (const service of ['checkout', 'payments-api', 'ledger'])
        for (const [k, v] of await splitSums(service, period.from, period.to))
          expected.set(k, (expected.get(k) ?? 0n) + v.self);
      expect(new Map(team.rows.map((r) => [r.key, r.cost]))).toEqual(expected);
      const services = await q.rows({ ...period, groupBy: 'service', scope: { kind: 'team', team: 'payments' } });
      expect(team.total.cost).toBe(services.total.cost);
    }
    // The previous week's amounts of the page's functions.
    const top = await q.topFunctions({
      ...WEEK47,
      scope: { kind: 'service', service: 'checkout' },
      by: 'self',
      limit: 5,
    });
    const before = await splitSums('checkout', d('2026-11-09T00:00:00Z'), WEEK47.from);
    for (const r of top.rows) expect(r.previous).toBe(before.get(r.key)?.self ?? 0n);
    expect(top.rows.some((r) => r.previous > 0n)).toBe(true);
  });

  it('the organisation top functions (board lists) and the cross-service view of a function agree with the splits', async () => {
    const q = queries();
    const org = await q.topFunctions({ ...WEEK47, scope: { kind: 'org' }, by: 'self', limit: 10 });
    const all = await splitSums(null, WEEK47.from, WEEK47.to);
    const expected = [...all]
      .sort(([ka, a], [kb, b]) => (a.self === b.self ? (ka < kb ? -1 : 1) : a.self > b.self ? -1 : 1))
      .slice(0, 10);
    expect(org.rows.map((r) => [r.key, r.cost])).toEqual(expected.map(([k, v]) => [k, v.self]));

    // The function most services pay for.
    const SERVICES = ['checkout', 'ledger', 'payments-api', 'recommendations', 'search', 'storefront-web'];
    const perServiceSplits = await Promise.all(SERVICES.map((service) => splitSums(service, WEEK47.from, WEEK47.to)));
    const payers = (name: string) => perServiceSplits.filter((m) => m.has(name)).length;
    const shared = [...all.keys()].reduce((best, name) => (payers(name) > payers(best) ? name : best));
    expect(payers(shared)).toBeGreaterThanOrEqual(3);
    for (const period of [WEEK47, EDGES]) {
      const cross = await q.crossService({ ...period, function: shared });
      const perService = new Map<string, bigint>();
      for (const service of SERVICES) {
        const s = (await splitSums(service, period.from, period.to)).get(shared);
        if (s) perService.set(service, s.self);
      }
      expect(new Map(cross.rows.map((r) => [r.key, r.cost]))).toEqual(perService);
      const trend = await q.trend({ ...period, subject: { kind: 'function', function: shared } });
      expect(trend.points.reduce((sum, p) => sum + p.cost, 0n)).toBe(sum(perService));
      const total = trend.points.map((p) => p.cost);
      // Days whose board lists do not hold the function read its slice of the block: same answer.
      const saved = (await db.query(
        `DELETE FROM cost_function_day_tops WHERE function_id = (SELECT id FROM cost_functions WHERE name = $1) RETURNING *`,
        [shared],
      )) as [unknown[], number];
      expect(saved[1]).toBeGreaterThan(0);
      try {
        const unlisted = await q.trend({ ...period, subject: { kind: 'function', function: shared } });
        expect(unlisted.points.map((p) => p.cost)).toEqual(total);
      } finally {
        await db.query(
          `INSERT INTO cost_function_day_tops SELECT * FROM json_populate_recordset(NULL::cost_function_day_tops, $1::json)`,
          [JSON.stringify(saved[0])],
        );
      }
    }
  });

  it('the books balance to the micro-dollar on every step: hour, day, week, month', async () => {
    const q = queries();
    for (const period of [
      { from: d('2026-11-20T20:00:00Z'), to: d('2026-11-21T13:00:00Z'), step: 'hour' as Step },
      { from: d('2026-11-13T00:00:00Z'), to: d('2026-11-25T00:00:00Z'), step: 'day' as Step },
      { from: d('2026-11-09T00:00:00Z'), to: d('2026-11-30T00:00:00Z'), step: 'week' as Step },
      { from: d('2026-10-01T00:00:00Z'), to: d('2026-12-01T00:00:00Z'), step: 'month' as Step },
    ]) {
      const books = await q.books(period);
      expect(books.lines.length).toBeGreaterThan(1);
      for (const line of books.lines) {
        expect(line.differences).toEqual({ functionsVsServices: 0n, servicesVsTotal: 0n, teamsVsTotal: 0n, idle: 0n });
        expect(line.balanced).toBe(true);
        const [w] = (await db.query(
          `SELECT coalesce(sum(total_microdollars), 0)::text AS t FROM cost_windows WHERE window_start >= $1 AND window_start < $2`,
          [line.from, line.to],
        )) as Array<{ t: string }>;
        expect(line.total).toBe(BigInt(w!.t));
        expect(line.measured + line.allocated).toBe(line.total);
      }
      const whole = books.lines.at(-1)!;
      expect(whole.total).toBeGreaterThan(0n);
      expect(books.lines.slice(0, -1).reduce((s, l) => s + l.total, 0n)).toBe(whole.total);
    }
  });

  it('a books line that does not balance says so', async () => {
    await db.query(
      `UPDATE cost_service_days SET microdollars = microdollars + 1 WHERE day = '2026-11-21' AND service = 'checkout'`,
    );
    try {
      const books = await queries().books({
        from: d('2026-11-21T00:00:00Z'),
        to: d('2026-11-22T00:00:00Z'),
        step: 'day',
      });
      expect(books.lines[0]!.balanced).toBe(false);
      expect(books.lines[0]!.differences.functionsVsServices).toBe(-1n);
    } finally {
      await db.query(
        `UPDATE cost_service_days SET microdollars = microdollars - 1 WHERE day = '2026-11-21' AND service = 'checkout'`,
      );
    }
  });

  it('a period not closed yet covers what has elapsed and compares with the same elapsed part of the previous one', async () => {
    const q = queries(Date.parse('2026-11-21T09:30:00Z'));
    const answer = await q.rows({ ...WEEK47, groupBy: 'service' });
    expect(answer.period.partial).toBe(true);
    expect(answer.period.through).toEqual(d('2026-11-21T09:00:00Z'));
    expect([answer.period.previousFrom, answer.period.previousTo]).toEqual([
      d('2026-11-09T00:00:00Z'),
      d('2026-11-14T09:00:00Z'),
    ]);
    expect(asMap(answer)).toEqual(await hourlySums(SERVICE_SUMS, WEEK47.from, d('2026-11-21T09:00:00Z')));
    expect(asMap(answer, 'previous')).toEqual(
      await hourlySums(SERVICE_SUMS, d('2026-11-09T00:00:00Z'), d('2026-11-14T09:00:00Z')),
    );
    // November against October for a month step.
    const month = await queries().rows({
      from: d('2026-11-01T00:00:00Z'),
      to: d('2026-12-01T00:00:00Z'),
      step: 'month',
      groupBy: 'service',
    });
    expect(month.period.partial).toBe(false);
    expect(asMap(month, 'previous')).toEqual(
      await hourlySums(SERVICE_SUMS, d('2026-10-01T00:00:00Z'), d('2026-11-01T00:00:00Z')),
    );
  });

  it('trends per step add up to the rows of the period, for the organisation, a team, a service, a function and every team', async () => {
    const q = queries();
    const period = { from: d('2026-11-02T00:00:00Z'), to: d('2026-11-30T00:00:00Z'), step: 'week' as Step };
    const teams = await q.rows({ ...period, groupBy: 'team' });
    const services = await q.rows({ ...period, groupBy: 'service' });
    const org = await q.trend({ ...period, subject: { kind: 'org' } });
    expect(org.points.map((p) => p.label)).toEqual(['2026-W45', '2026-W46', '2026-W47', '2026-W48']);
    expect(org.points.reduce((s, p) => s + p.cost, 0n)).toBe(teams.total.cost);
    const payments = await q.trend({ ...period, subject: { kind: 'team', team: 'payments' } });
    expect(payments.points.reduce((s, p) => s + p.cost, 0n)).toBe(teams.rows.find((r) => r.key === 'payments')!.cost);
    const checkout = await q.trend({ ...period, subject: { kind: 'service', service: 'checkout' } });
    expect(checkout.points.map((p) => p.cost)).toEqual(
      await Promise.all(
        checkout.points.map(async (p) => (await hourlySums(SERVICE_SUMS, p.from, p.to)).get('checkout') ?? 0n),
      ),
    );
    expect(checkout.points.reduce((s, p) => s + p.cost, 0n)).toBe(
      services.rows.find((r) => r.key === 'checkout')!.cost,
    );
    const every = await q.trends({ ...period, each: 'team' });
    expect(new Map([...every.series].map(([team, points]) => [team, points.reduce((s, p) => s + p.cost, 0n)]))).toEqual(
      new Map(teams.rows.map((r) => [r.key, r.cost])),
    );

    const top = (
      await q.topFunctions({ ...period, scope: { kind: 'service', service: 'checkout' }, by: 'self', limit: 1 })
    ).rows[0]!;
    for (const step of ['week', 'hour'] as const) {
      const fn = await q.trend({
        ...(step === 'hour' ? EDGES : period),
        subject: { kind: 'function', function: top.key, service: 'checkout' },
      });
      const expected =
        step === 'hour' ? (await splitSums('checkout', EDGES.from, EDGES.to)).get(top.key)!.self : top.cost;
      expect(fn.points.reduce((s, p) => s + p.cost, 0n)).toBe(expected);
    }
  });

  it('provenance names the price schedule, catalog revision and profile digests of the figures', async () => {
    const q = queries();
    const p = await q.provenance({ ...WEEK47, scope: { kind: 'service', service: 'checkout' } });
    const [w] = (await db.query(`SELECT DISTINCT price_schedule_id, catalog_revision FROM cost_windows`)) as Array<{
      price_schedule_id: string;
      catalog_revision: string;
    }>;
    expect(p.priceScheduleIds).toEqual([w!.price_schedule_id]);
    expect(p.catalogRevisions).toEqual([w!.catalog_revision]);
    expect(p.priceIds).toEqual(['service=checkout@2026-01-01T00:00:00.000Z']);
    const digests = (await db.query(
      `SELECT DISTINCT unnest(profile_digests) AS d FROM cost_service_windows WHERE service = 'checkout' AND window_start >= $1 AND window_start < $2 ORDER BY 1`,
      [WEEK47.from, WEEK47.to],
    )) as Array<{ d: string }>;
    expect(p.profileDigests).toEqual(digests.map((x) => x.d));
    expect(p.profileDigestCount).toBe(6); // the evening before holds copies (same bytes, same digest) of 10:00 and 11:00
    expect(p.windows).toBe(8);
  });

  it('provenance of whole days (the daily rollup) and of hourly edges equals the hourly rows, for every scope', async () => {
    const q = queries();
    // The reference: every hourly service row of the range, as the provenance was read before the daily rollup.
    const hourly = async (scope: string, from: Date, to: Date) => {
      const [r] = (await db.query(
        `WITH s AS (SELECT * FROM cost_service_windows WHERE window_start >= $1 AND window_start < $2 AND ($3 = '' OR team = $3 OR service = $3))
         SELECT (SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') FROM s, unnest(price_ids) x) AS prices,
                (SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') FROM s, unnest(profile_digests) x) AS digests,
                (SELECT count(DISTINCT window_start)::int FROM s) AS windows`,
        [from, to, scope],
      )) as Array<{ prices: string[]; digests: string[]; windows: number }>;
      return r!;
    };
    // A range of whole days with an edge on each side (21:00 the day before to 03:00 the day after).
    const WIDE = { from: d('2026-11-15T21:00:00Z'), to: d('2026-11-24T03:00:00Z'), step: 'hour' as Step };
    let checked = 0;
    for (const period of [WEEK47, EDGES, WIDE])
      for (const [scope, name] of [
        [{ kind: 'org' }, ''],
        [{ kind: 'team', team: 'payments' }, 'payments'],
        [{ kind: 'service', service: 'checkout' }, 'checkout'],
      ] as const) {
        const got = await q.provenance({ ...period, scope });
        const want = await hourly(name, period.from, period.to);
        expect(got.priceIds).toEqual(want.prices);
        expect(got.profileDigests).toEqual(want.digests);
        expect(got.profileDigestCount).toBe(want.digests.length);
        if (scope.kind !== 'org') expect(got.windows).toBe(want.windows);
        checked += want.digests.length;
      }
    expect(checked).toBeGreaterThan(20);
    // The rollup is what whole days read: a day's rollup row edited by hand shows in the answer.
    await db.query(
      `UPDATE cost_provenance_days SET profile_digests = profile_digests || '{zz-planted}' WHERE service = 'checkout' AND day = '2026-11-21'`,
    );
    try {
      const planted = await q.provenance({ ...WEEK47, scope: { kind: 'service', service: 'checkout' } });
      expect(planted.profileDigests.at(-1)).toBe('zz-planted');
    } finally {
      await db.query(
        `UPDATE cost_provenance_days SET profile_digests = array_remove(profile_digests, 'zz-planted') WHERE day = '2026-11-21'`,
      );
    }
  });

  it('a re-attribution of every window leaves every answer identical', async () => {
    const snapshot = async () => {
      const q = queries();
      const out: unknown[] = [];
      for (const period of [WEEK47, EDGES]) {
        for (const groupBy of ['service', 'team', 'label:endpoint', 'label:version'] as const)
          out.push(await q.rows({ ...period, groupBy }));
        for (const scope of [
          { kind: 'team', team: 'payments' },
          { kind: 'service', service: 'checkout' },
        ] as const)
          out.push(await q.rows({ ...period, groupBy: 'label:endpoint', scope }));
        out.push(
          await q.topFunctions({ ...period, scope: { kind: 'team', team: 'payments' }, by: 'inclusive', limit: 50 }),
        );
        out.push(await q.topFunctions({ ...period, scope: { kind: 'org' }, by: 'self', limit: 20 }));
        out.push(await q.books(period));
        out.push(await q.trends({ ...period, each: 'service' }));
        out.push(await q.provenance(period));
      }
      return JSON.stringify(out, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    };
    const before = await snapshot();
    const fresh = attributionService(db); // a new process: empty caches
    for (const start of windows) await attribute(db, fresh, new Date(start));
    expect(await snapshot()).toBe(before);
  });

  it('readers building the same days at once take turns and answer alike', async () => {
    await db.query(`DELETE FROM cost_function_service_day_builds`);
    const q = queries();
    const answers = await Promise.all(
      ['checkout', 'ledger', 'checkout', 'search'].map((service) =>
        q.topFunctions({ ...WEEK47, scope: { kind: 'service', service }, by: 'self', limit: 5 }),
      ),
    );
    expect(answers[2]).toEqual(answers[0]);
    const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM cost_function_service_day_builds`)) as [
      { n: number },
    ];
    expect(n).toBeGreaterThan(0);
  });

  it('readers building the same weekly copies take turns (a page asks self and inclusive of one week at once)', async () => {
    const repository = new CostQueryRepository(db);
    const build = (pairs: Array<{ week: string; serviceId: number }>) =>
      (
        repository as unknown as {
          ensureServiceWeeks(p: Array<{ week: string; serviceId: number }>): Promise<void>;
        }
      ).ensureServiceWeeks(pairs);
    const ids = ((await db.query(`SELECT id FROM cost_services ORDER BY id`)) as Array<{ id: number }>).map(
      (r) => r.id,
    );
    await db.query(`DELETE FROM cost_function_service_weeks`);
    // Another reader building week 2026-11-16 holds its lock: this one waits for it (two upserting the same rows in
    // different orders deadlocked on the dashboard bench's team pages before the lock).
    const other = db.createQueryRunner();
    await other.startTransaction();
    await other.query(`SELECT pg_advisory_xact_lock(${0x71727977}, $1::date - date '2000-01-01')`, ['2026-11-16']);
    let built = false;
    const waiting = build(ids.map((serviceId) => ({ week: '2026-11-16', serviceId }))).then(() => (built = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(built).toBe(false);
    await other.commitTransaction();
    await other.release();
    await waiting;
    const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM cost_function_service_weeks`)) as [{ n: number }];
    expect(n).toBe(ids.length);
    const team = { kind: 'team', team: 'payments' } as const;
    const [a, b] = await Promise.all([
      queries().topFunctions({ ...WEEK47, scope: team, by: 'self', limit: 5 }),
      queries().topFunctions({ ...WEEK47, scope: team, by: 'inclusive', limit: 5 }),
    ]);
    expect(a.rows.length).toBeGreaterThan(0);
    expect(b.rows.length).toBeGreaterThan(0);
  });

  it('a later attribution of a day is what the next read answers (the per-service copy of the day is rebuilt)', async () => {
    const q = queries();
    const scope: Scope = { kind: 'service', service: 'checkout' };
    const before = await q.topFunctions({ ...WEEK47, scope, by: 'self', limit: 1000 });
    const late = demo.find((p) => p.service === 'checkout' && p.start.getUTCHours() === 11)!;
    const w06 = d('2026-11-21T06:00:00Z');
    await storeProfile(db, late, { start: w06, source: 'late' });
    await attribute(db, attributionService(db), w06);
    const after = await q.topFunctions({ ...WEEK47, scope, by: 'self', limit: 1000 });
    expect(after.total.cost).toBeGreaterThan(before.total.cost);
    const expected = await splitSums('checkout', WEEK47.from, WEEK47.to);
    expect(new Map(after.rows.map((r) => [r.key, r.cost]))).toEqual(
      new Map([...expected].map(([k, v]) => [k, v.self])),
    );
  });
});
