import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { attributeWindow as attributePure, sumAttributions, type ServiceWindowInput } from '../../src/domain/cost';
import { CatalogRepository } from '../../src/catalog/catalog.repository';
import { decodeFunctionSplit } from '../../src/cost/function-split.codec';
import { testDataSource, truncateTables } from '../support/database';
import {
  attribute,
  attributionService,
  demoProfiles,
  dumpFacts,
  HOUR,
  loadExampleCatalog,
  SETTINGS,
  storeProfile,
  type DemoProfile,
} from './support';

const W06 = new Date('2026-11-21T06:00:00Z');
const W07 = new Date('2026-11-21T07:00:00Z');

let db: DataSource;
let demo: DemoProfile[];

beforeAll(async () => {
  db = await testDataSource();
  demo = demoProfiles();
});

beforeEach(async () => {
  await truncateTables(db);
  await loadExampleCatalog(db);
});

async function storeWindow(start: Date): Promise<void> {
  for (const p of demo.filter((d) => d.start.getTime() === start.getTime())) await storeProfile(db, p);
}

/** Σ checks on the stored rows of one window: functions = services = teams (with __unowned__, __idle__) = total. */
async function expectConservation(windowStart: Date): Promise<bigint> {
  const [w] = (await db.query(
    `SELECT total_microdollars::text AS total, idle_microdollars::text AS idle FROM cost_windows WHERE window_start = $1`,
    [windowStart],
  )) as Array<{ total: string; idle: string }>;
  const total = BigInt(w!.total);
  const services = (await db.query(
    `SELECT service, microdollars::text AS m FROM cost_service_windows WHERE window_start = $1`,
    [windowStart],
  )) as Array<{ service: string; m: string }>;
  const serviceSum = services.reduce((s, r) => s + BigInt(r.m), 0n);
  const [teams] = (await db.query(
    `SELECT sum(own_microdollars)::text AS own FROM cost_team_windows WHERE window_start = $1`,
    [windowStart],
  )) as Array<{ own: string }>;
  const splits = (await db.query(
    `SELECT service, split, self_microdollars::text AS self FROM cost_function_splits WHERE window_start = $1`,
    [windowStart],
  )) as Array<{ service: string; split: Buffer; self: string }>;
  let functionSelf = 0n;
  for (const s of splits) {
    const decoded = [...decodeFunctionSplit(s.split).values()];
    const self = decoded.reduce((sum, a) => sum + a.self, 0n);
    expect(self).toBe(BigInt(s.self));
    expect(decoded.every((a) => a.cum >= a.self)).toBe(true);
    expect(self).toBe(BigInt(services.find((r) => r.service === s.service)!.m));
    functionSelf += self;
  }
  const labels = (await db.query(
    `SELECT service, label_key, sum(microdollars)::text AS m FROM cost_label_windows WHERE window_start = $1 GROUP BY service, label_key`,
    [windowStart],
  )) as Array<{ service: string; label_key: string; m: string }>;
  for (const l of labels) expect(BigInt(l.m)).toBe(BigInt(services.find((r) => r.service === l.service)!.m));
  expect(labels.length).toBe(services.length * 3);
  expect(functionSelf).toBe(serviceSum);
  expect(serviceSum + BigInt(w!.idle)).toBe(total);
  expect(BigInt(teams!.own)).toBe(total);
  return total;
}

/** The day's daily rows agree with the hourly ones. */
async function expectDailyConservation(day: string): Promise<void> {
  const [r] = (await db.query(
    `SELECT (SELECT sum(self_microdollars) FROM cost_function_days WHERE day = $1::date)::text AS functions,
            (SELECT sum(microdollars) FROM cost_service_days WHERE day = $1::date)::text AS services,
            (SELECT sum(own_microdollars) FROM cost_team_days WHERE day = $1::date)::text AS teams,
            (SELECT sum(total_microdollars) FROM cost_windows WHERE window_start >= $1::date AT TIME ZONE 'UTC' AND window_start < ($1::date + 1) AT TIME ZONE 'UTC')::text AS total,
            (SELECT sum(idle_microdollars) FROM cost_windows WHERE window_start >= $1::date AT TIME ZONE 'UTC' AND window_start < ($1::date + 1) AT TIME ZONE 'UTC')::text AS idle`,
    [day],
  )) as Array<Record<string, string>>;
  expect(BigInt(r!.functions!)).toBe(BigInt(r!.services!));
  expect(BigInt(r!.services!) + BigInt(r!.idle!)).toBe(BigInt(r!.total!));
  expect(BigInt(r!.teams!)).toBe(BigInt(r!.total!));
}

describe('AttributionService on PostgreSQL with the real demo profiles', () => {
  it('stores what the pure attribution computes, with provenance, and the books balance on the stored rows', async () => {
    await storeWindow(W06);
    const service = attributionService(db);
    const result = await attribute(db, service, W06);

    const inputs: ServiceWindowInput[] = demo
      .filter((d) => d.start.getTime() === W06.getTime())
      .map((d) => ({
        serviceName: d.service,
        fold: d.fold,
        cpuNanoseconds: d.cpu,
        source: 'demo',
        profileDigest: 'x',
      }));
    const catalog = (await new CatalogRepository(db).currentGood())!;
    const expected = attributePure({
      window: { startMs: W06.getTime(), endMs: W06.getTime() + HOUR },
      services: inputs,
      catalog: catalog.catalog,
      catalogRevision: catalog.revision,
      settings: SETTINGS,
      labelKeys: SETTINGS.labels.keys,
    });
    expect(result.totalMicrodollars).toBe(expected.totalMicrodollars);
    expect(result.totalMicrodollars).toBeGreaterThan(0n);
    expect(await expectConservation(W06)).toBe(expected.totalMicrodollars);
    await expectDailyConservation('2026-11-21');

    const services = (await db.query(
      `SELECT service, team, microdollars::text AS m, price_ids, profile_digests FROM cost_service_windows ORDER BY service`,
    )) as Array<{ service: string; team: string; m: string; price_ids: string[]; profile_digests: string[] }>;
    expect(services.map((s) => [s.service, s.team, BigInt(s.m)])).toEqual(
      [...expected.services]
        .sort((a, b) => (a.service < b.service ? -1 : 1))
        .map((s) => [s.service, s.team, s.microdollars]),
    );
    expect(services.find((s) => s.service === 'search')!.team).toBe('__unowned__'); // not in catalog/
    expect(services.find((s) => s.service === 'checkout')!.price_ids).toEqual([
      'service=checkout@2026-01-01T00:00:00.000Z',
    ]);
    for (const s of services) expect(s.profile_digests).toHaveLength(1);
    const [header] = (await db.query(
      `SELECT w.catalog_revision, w.price_schedule_id, r.status FROM cost_windows w JOIN catalog_revisions r ON r.id = w.catalog_revision_id`,
    )) as Array<Record<string, string>>;
    expect(header).toEqual({
      catalog_revision: catalog.revision,
      price_schedule_id: result.priceScheduleId,
      status: 'ok',
    });
  });

  it('re-running a window yields identical rows in every fact table', async () => {
    await storeWindow(W06);
    await storeWindow(W07);
    const service = attributionService(db);
    await attribute(db, service, W06);
    await attribute(db, service, W07);
    const first = await dumpFacts(db);
    expect(first.cost_function_days!.length).toBeGreaterThan(50);

    const again = await attribute(db, attributionService(db), W06); // a fresh process: empty caches
    expect(again.functionDayChanges).toBe(0);
    await attribute(db, service, W07);
    expect(await dumpFacts(db)).toEqual(first);
  });

  it('a failure midway through the writes leaves the window as it was (no partial window)', async () => {
    await storeWindow(W06);
    const service = attributionService(db);
    await attribute(db, service, W06);
    const before = await dumpFacts(db);
    // A late profile makes the window dirty; then the team insert (after cost_windows and service rows) fails.
    await storeProfile(
      db,
      demo.find((d) => d.service === 'checkout' && d.start.getTime() === W07.getTime())!,
      { start: W06, source: 'late' },
    );
    await db.query(
      `CREATE FUNCTION fail_team_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
    );
    await db.query(
      `CREATE TRIGGER fail_team_insert BEFORE INSERT ON cost_team_windows FOR EACH ROW EXECUTE FUNCTION fail_team_insert()`,
    );
    try {
      await expect(attribute(db, service, W06)).rejects.toThrow('injected failure');
    } finally {
      await db.query(`DROP TRIGGER fail_team_insert ON cost_team_windows`);
      await db.query(`DROP FUNCTION fail_team_insert()`);
    }
    expect(await dumpFacts(db)).toEqual(before);
    const dirty = (await db.query(`SELECT window_start FROM dirty_windows`)) as unknown[];
    expect(dirty).toHaveLength(1); // the dirty mark was rolled back too: the window will be attributed again

    const retried = await attribute(db, service, W06);
    expect(retried.wasDirty).toBe(true);
    expect(await dumpFacts(db)).not.toEqual(before);
    await expectConservation(W06);
    await expectDailyConservation('2026-11-21');
  });

  it('a late profile into an attributed window changes that window only, and the day facts follow exactly', async () => {
    await storeWindow(W06);
    await storeWindow(W07);
    const service = attributionService(db);
    await attribute(db, service, W06);
    await attribute(db, service, W07);
    const w07Before = await dumpFacts(db, W07);
    const w06Before = await dumpFacts(db, W06);
    const [checkoutBefore] = (await db.query(
      `SELECT microdollars::text AS m FROM cost_service_windows WHERE window_start = $1 AND service = 'checkout'`,
      [W06],
    )) as Array<{ m: string }>;

    const late = demo.find((d) => d.service === 'checkout' && d.start.getTime() === W07.getTime())!;
    await storeProfile(db, late, { start: W06, source: 'late' });
    const result = await attribute(db, service, W06);

    expect(result.wasDirty).toBe(true);
    expect(result.profiles).toBe(7);
    const [checkoutAfter] = (await db.query(
      `SELECT microdollars::text AS m, profile_digests FROM cost_service_windows WHERE window_start = $1 AND service = 'checkout'`,
      [W06],
    )) as Array<{ m: string; profile_digests: string[] }>;
    expect(BigInt(checkoutAfter!.m)).toBeGreaterThan(BigInt(checkoutBefore!.m));
    expect(checkoutAfter!.profile_digests).toHaveLength(2);
    const w07After = await dumpFacts(db, W07);
    for (const table of [
      'cost_windows',
      'cost_service_windows',
      'cost_team_windows',
      'cost_label_windows',
      'cost_function_splits',
    ]) {
      expect(w07After[table]).toEqual(w07Before[table]);
      expect((await dumpFacts(db, W06))[table]).not.toEqual(w06Before[table]);
    }
    await expectConservation(W06);
    await expectConservation(W07);
    await expectDailyConservation('2026-11-21');

    // The day's function facts equal the pure sum over both windows' attributions.
    const catalog = (await new CatalogRepository(db).currentGood())!;
    const windows = [W06, W07].map((start) =>
      attributePure({
        window: { startMs: start.getTime(), endMs: start.getTime() + HOUR },
        services: [...demo.filter((d) => d.start.getTime() === start.getTime()), ...(start === W06 ? [late] : [])].map(
          (d, i) => ({
            serviceName: d.service,
            fold: d.fold,
            cpuNanoseconds: d.cpu,
            source: i === 6 ? 'late' : 'demo',
            profileDigest: `${i}`,
          }),
        ),
        catalog: catalog.catalog,
        catalogRevision: catalog.revision,
        settings: SETTINGS,
        labelKeys: SETTINGS.labels.keys,
      }),
    );
    const summary = sumAttributions(windows);
    const stored = (await db.query(
      `SELECT d.service, f.name, d.self_microdollars::text AS self, d.cum_microdollars::text AS cum
         FROM cost_function_days d JOIN cost_functions f ON f.id = d.function_id WHERE d.day = '2026-11-21'`,
    )) as Array<{ service: string; name: string; self: string; cum: string }>;
    const asMap = new Map(stored.map((r) => [`${r.service}\u0000${r.name}`, [BigInt(r.self), BigInt(r.cum)]]));
    expect(asMap).toEqual(
      new Map(
        summary.functions.map((f) => [`${f.service}\u0000${f.function}`, [f.selfMicrodollars, f.cumMicrodollars]]),
      ),
    );
  });

  it('a window whose profiles are all gone keeps a zero header and leaves no service, function or day rows behind', async () => {
    await storeWindow(W06);
    const service = attributionService(db);
    await attribute(db, service, W06);
    await db.query(`DELETE FROM profiles`);
    await attribute(db, service, W06);
    const facts = await dumpFacts(db);
    expect(facts.cost_service_windows).toEqual([]);
    expect(facts.cost_function_splits).toEqual([]);
    expect(facts.cost_function_days).toEqual([]);
    expect(facts.cost_service_days).toEqual([]);
    expect(facts.cost_windows).toHaveLength(1);
    expect(await expectConservation(W06)).toBe(0n);
  });
});

describe('retention of hourly facts', () => {
  it('drops whole month partitions before the cutoff and keeps the daily rollups', async () => {
    await storeWindow(W06);
    const service = attributionService(db);
    await attribute(db, service, W06);
    const october = new Date('2026-10-31T23:00:00Z');
    for (const p of demo.filter((d) => d.start.getTime() === W06.getTime()))
      await storeProfile(db, p, { start: october });
    await attribute(db, service, october);

    const { AttributionRepository } = await import('../../src/cost/attribution.repository.js');
    const dropped = await db.transaction((tx) =>
      new AttributionRepository().dropHourlyMonthsBefore(tx, new Date('2026-11-15T00:00:00Z')),
    );
    expect(dropped).toEqual([
      'cost_function_splits_y2026m10',
      'cost_label_windows_y2026m10',
      'cost_service_windows_y2026m10',
      'cost_team_windows_y2026m10',
    ]);
    expect(await db.query(`SELECT window_start FROM cost_windows`)).toEqual([{ window_start: W06 }]);
    const days = (await db.query(`SELECT DISTINCT day::text AS day FROM cost_service_days ORDER BY 1`)) as Array<{
      day: string;
    }>;
    expect(days.map((d) => d.day)).toEqual(['2026-10-31', '2026-11-21']);
    await expectConservation(W06);
  });

  it('re-attributes a window of a month whose partitions another replica dropped (no stale partition cache)', async () => {
    const service = attributionService(db);
    const october = new Date('2026-10-31T22:00:00Z');
    for (const p of demo.filter((d) => d.start.getTime() === W06.getTime()))
      await storeProfile(db, p, { start: october });
    await attribute(db, service, october);
    // Another process (retention, or a replica) drops October while this service still knows it.
    const { AttributionRepository } = await import('../../src/cost/attribution.repository.js');
    await db.transaction(async (tx) => {
      await new AttributionRepository().dropHourlyMonthsBefore(tx, new Date('2026-11-15T00:00:00Z'));
      await new AttributionRepository().dropFunctionDayMonthsBefore(tx, new Date('2026-11-15T00:00:00Z'));
    });
    await attribute(db, service, october);
    expect(
      await db.query(`SELECT count(*)::int AS n FROM cost_service_windows WHERE window_start = $1`, [october]),
    ).toEqual([{ n: 6 }]);
  });
});
