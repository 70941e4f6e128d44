import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { ApiKeyService } from '../../src/api/auth/api-key.service';
import { CatalogRepository } from '../../src/catalog/catalog.repository';
import { AttributionService } from '../../src/cost/attribution.service';
import {
  attributeWindow as attributePure,
  formatScaled,
  sumAttributions,
  type AttributionSummary,
  type WindowAttribution,
} from '../../src/domain/cost';
import { startTestApp, type TestApp } from '../support/app';
import { CATALOG_DIR, demoProfiles, HOUR, LABEL_KEYS, SETTINGS, storeProfile, type DemoProfile } from './support';

const DAY = 86_400_000;
let app: TestApp;
let dir: string;
/** API keys (the leaderboards and the catalog are behind the finance API's keys). */
let readKey: string;
let adminKey: string;
/** Pure attributions of every stored window, the oracle for the API. */
const windows = new Map<number, WindowAttribution>();

/**
 * The real demo profiles: all six windows of 2026-11-21 06:00-12:00, and the first three of them again one day
 * earlier (so the previous day has about half the cost). Attributed through the service, then read over HTTP.
 */
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'flamebill-lb-catalog-'));
  await cp(CATALOG_DIR, dir, { recursive: true });
  app = await startTestApp({
    logLevel: 'warn',
    settings: {
      schedules: { enabled: false, demo: false },
      paths: { catalogDir: dir },
      labels: { keys: LABEL_KEYS },
      prices: [
        { costPerCoreHour: '0.0316', effectiveFrom: '2026-01-01' },
        { costPerCoreHour: '0.05', effectiveFrom: '2026-01-01', scope: { service: 'checkout' } },
      ],
    },
  });
  readKey = (await app.app.get(ApiKeyService).create('leaderboards-read', ['read'])).key;
  adminKey = (await app.app.get(ApiKeyService).create('leaderboards-admin', ['admin'])).key;
  const db = app.app.get(DataSource);
  await db.query(
    `TRUNCATE profiles, dirty_windows, cost_windows, cost_service_windows, cost_team_windows, cost_label_windows, cost_function_splits, cost_function_day_blocks, cost_function_day_tops, cost_function_day_states, cost_service_days, cost_team_days, cost_label_days, cost_provenance_days`,
  );
  const demo = demoProfiles();
  const placed: Array<{ p: DemoProfile; start: Date }> = [
    ...demo.map((p) => ({ p, start: p.start })),
    ...demo.filter((p) => p.start.getUTCHours() < 9).map((p) => ({ p, start: new Date(p.start.getTime() - DAY) })),
  ];
  for (const { p, start } of placed) await storeProfile(db, p, { start });
  const catalog = (await new CatalogRepository(db).currentGood())!;
  const attribution = app.app.get(AttributionService);
  for (const start of [...new Set(placed.map((x) => x.start.getTime()))].sort()) {
    await db.transaction((tx) =>
      attribution.attributeWindow({ start: new Date(start), end: new Date(start + HOUR) }, tx),
    );
    const inputs = placed
      .filter((x) => x.start.getTime() === start)
      .map((x) => ({
        serviceName: x.p.service,
        fold: x.p.fold,
        cpuNanoseconds: x.p.cpu,
        source: 'demo',
        profileDigest: x.p.service,
      }));
    windows.set(
      start,
      attributePure({
        window: { startMs: start, endMs: start + HOUR },
        services: inputs,
        catalog: catalog.catalog,
        catalogRevision: catalog.revision,
        settings: SETTINGS,
        labelKeys: LABEL_KEYS,
      }),
    );
  }
});

afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

function oracle(from: string, to: string): AttributionSummary {
  const [a, b] = [Date.parse(from), Date.parse(to)];
  return sumAttributions([...windows].filter(([start]) => start >= a && start < b).map(([, w]) => w));
}

interface Money {
  readonly microdollars: string;
  readonly dollars: string;
}
/** A leaderboard row as JSON: the fields of every board, loosely. */
interface Row {
  readonly [field: string]: unknown;
  readonly rank: number;
  readonly cost: Money;
  readonly previous: Money;
  readonly change: Money & { readonly percent: string | null };
  readonly self: Money;
  readonly inclusive: Money;
  readonly service: string;
  readonly function: string;
  readonly team: string;
  readonly kind: string;
  readonly services: number;
}
interface Body {
  readonly [field: string]: unknown;
  readonly rows: Row[];
  readonly total: Money;
  readonly totalChange: { readonly percent: string | null };
  readonly param?: string;
  readonly message?: string;
  // GET /api/v1/catalog and /readyz
  readonly current: { readonly revision: string; readonly services: unknown[]; readonly problems?: unknown[] };
  readonly lastError: { readonly errors: unknown[] } | null;
  readonly unownedServices: unknown[];
  readonly details: { readonly catalog: { readonly status: string; readonly errors: string[] } };
}

async function get(pathAndQuery: string): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${app.baseUrl}${pathAndQuery}`, { headers: { authorization: `Bearer ${readKey}` } });
  return { status: response.status, body: (await response.json()) as Body };
}

function percent(current: bigint, previous: bigint): string | null {
  return previous === 0n ? null : ((Number(current - previous) / Number(previous)) * 100).toFixed(2);
}

describe('GET /api/v1/leaderboards', () => {
  it('services for an hourly period, with the previous period of equal length and exact money strings', async () => {
    const { status, body } = await get(
      '/api/v1/leaderboards/services?from=2026-11-21T09:00:00Z&to=2026-11-21T12:00:00Z&limit=3',
    );
    expect(status).toBe(200);
    const current = oracle('2026-11-21T09:00:00Z', '2026-11-21T12:00:00Z');
    const previous = oracle('2026-11-21T06:00:00Z', '2026-11-21T09:00:00Z');
    expect(body).toMatchObject({
      board: 'services',
      currency: 'USD',
      defaultPriced: false,
      windows: 3,
      previousWindows: 3,
      period: { from: '2026-11-21T09:00:00.000Z', to: '2026-11-21T12:00:00.000Z' },
      previousPeriod: { from: '2026-11-21T06:00:00.000Z', to: '2026-11-21T09:00:00.000Z' },
      total: { microdollars: String(current.totalMicrodollars), dollars: formatScaled(current.totalMicrodollars, 6) },
    });
    expect(body.rows).toHaveLength(3);
    body.rows.forEach((row, i) => {
      const expected = current.services[i]!;
      const before = previous.services.find((s) => s.service === expected.service)!.microdollars;
      expect(row).toEqual({
        rank: i + 1,
        service: expected.service,
        team: expected.team,
        cpuNanoseconds: String(expected.cpuNanoseconds),
        defaultPriced: false,
        cost: { microdollars: String(expected.microdollars), dollars: formatScaled(expected.microdollars, 6) },
        previous: { microdollars: String(before), dollars: formatScaled(before, 6) },
        change: {
          microdollars: String(expected.microdollars - before),
          dollars: formatScaled(expected.microdollars - before, 6),
          percent: percent(expected.microdollars, before),
        },
      });
    });
  });

  it('teams by own and by rolled-up cost for a day against the previous day, with __unowned__ and __idle__', async () => {
    const current = oracle('2026-11-21T00:00:00Z', '2026-11-22T00:00:00Z');
    const previous = oracle('2026-11-20T00:00:00Z', '2026-11-21T00:00:00Z');
    for (const by of ['self', 'inclusive'] as const) {
      const { status, body } = await get(`/api/v1/leaderboards/teams?from=2026-11-21&to=2026-11-22&limit=50&by=${by}`);
      expect(status).toBe(200);
      const amount = (t: { ownMicrodollars: bigint; rolledUpMicrodollars: bigint }) =>
        by === 'self' ? t.ownMicrodollars : t.rolledUpMicrodollars;
      const got = new Map(body.rows.map((r) => [r.team, [r.kind, r.cost.microdollars, r.previous.microdollars]]));
      expect(got).toEqual(
        new Map(
          current.teams.map((t) => [
            t.team,
            [
              t.kind,
              String(amount(t)),
              String(
                amount(
                  previous.teams.find((p) => p.team === t.team) ?? { ownMicrodollars: 0n, rolledUpMicrodollars: 0n },
                ),
              ),
            ],
          ]),
        ),
      );
      const values = body.rows.map((r) => BigInt(r.cost.microdollars));
      expect(values).toEqual([...values].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
      expect(got.get('__unowned__')).toBeDefined(); // search is not in the catalog
    }
    const self = (await get('/api/v1/leaderboards/teams?from=2026-11-21&to=2026-11-22&limit=50')).body;
    const ownSum = self.rows.reduce((s, r) => s + BigInt(r.cost.microdollars), 0n);
    expect(ownSum).toBe(BigInt(self.total.microdollars)); // own costs (with __unowned__, __idle__) add up to the total
  });

  it('functions (self and inclusive) and cross-service functions for a day, change in $ and %', async () => {
    const current = oracle('2026-11-21T00:00:00Z', '2026-11-22T00:00:00Z');
    const previous = oracle('2026-11-20T00:00:00Z', '2026-11-21T00:00:00Z');
    const key = (service: string, fn: string) => `${service}\u0000${fn}`;
    const prevFns = new Map(previous.functions.map((f) => [key(f.service, f.function), f]));
    const curFns = new Map(current.functions.map((f) => [key(f.service, f.function), f]));

    for (const by of ['self', 'inclusive'] as const) {
      const { body } = await get(`/api/v1/leaderboards/functions?from=2026-11-21&to=2026-11-22&limit=10&by=${by}`);
      const pick = (f?: { selfMicrodollars: bigint; cumMicrodollars: bigint }) =>
        f ? (by === 'self' ? f.selfMicrodollars : f.cumMicrodollars) : 0n;
      const ranked = current.functions.map(pick).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
      expect(body.rows.map((r) => BigInt(r.cost.microdollars))).toEqual(ranked.slice(0, 10));
      for (const row of body.rows) {
        const f = curFns.get(key(row.service, row.function))!;
        expect(row.self.microdollars).toBe(String(f.selfMicrodollars));
        expect(row.inclusive.microdollars).toBe(String(f.cumMicrodollars));
        const before = pick(prevFns.get(key(row.service, row.function)));
        expect(row.previous.microdollars).toBe(String(before));
        expect(row.change.percent).toBe(percent(pick(f), before));
      }
    }

    const cross = (
      await get('/api/v1/leaderboards/cross-service-functions?from=2026-11-21&to=2026-11-22&limit=5&by=inclusive')
    ).body;
    const bySelf = new Map<string, { self: bigint; cum: bigint; services: number }>();
    for (const f of current.functions) {
      const line = bySelf.get(f.function) ?? { self: 0n, cum: 0n, services: 0 };
      bySelf.set(f.function, {
        self: line.self + f.selfMicrodollars,
        cum: line.cum + f.cumMicrodollars,
        services: line.services + 1,
      });
    }
    expect(cross.rows).toHaveLength(5);
    for (const row of cross.rows) {
      const f = bySelf.get(row.function)!;
      expect([row.inclusive.microdollars, row.self.microdollars, row.services]).toEqual([
        String(f.cum),
        String(f.self),
        f.services,
      ]);
    }
    // Inclusive figures overlap; the total is the window costs, never a sum of inclusive figures.
    expect(cross.total.microdollars).toBe(String(current.totalMicrodollars));

    // The day before has no previous day: percent is null, never a division by zero.
    const first = (await get('/api/v1/leaderboards/functions?from=2026-11-20&to=2026-11-21&limit=3')).body;
    expect(first.rows.length).toBe(3);
    for (const row of first.rows)
      expect(row.change).toMatchObject({ percent: null, microdollars: row.cost.microdollars });
    expect(first.totalChange.percent).toBeNull();
  });

  it('answers 400 naming the parameter', async () => {
    const cases: Array<[string, string]> = [
      ['/api/v1/leaderboards/services?to=2026-11-22', 'from'],
      ['/api/v1/leaderboards/services?from=yesterday&to=2026-11-22', 'from'],
      ['/api/v1/leaderboards/services?from=2026-11-22&to=2026-11-21', 'to'],
      ['/api/v1/leaderboards/services?from=2026-11-21&to=2026-11-22&limit=0', 'limit'],
      ['/api/v1/leaderboards/services?from=2026-11-21&to=2026-11-22&by=most', 'by'],
      ['/api/v1/leaderboards/functions?from=2026-11-21T06:00:00Z&to=2026-11-22', 'from'],
      ['/api/v1/leaderboards/regions?from=2026-11-21&to=2026-11-22', 'board'],
    ];
    for (const [url, param] of cases) {
      const { status, body } = await get(url);
      expect({ url, status, param: body.param }).toEqual({ url, status: 400, param });
      expect(body.message).toMatch(new RegExp(`^${param}: `));
    }
  });
});

describe('GET /api/v1/catalog and /readyz', () => {
  it('show the revision in force, unowned services from the facts, and a broken catalog without replacing the good revision', async () => {
    const ok = (await get('/api/v1/catalog')).body;
    expect(ok.current.services).toContainEqual(expect.objectContaining({ service: 'checkout', team: 'payments' }));
    expect(ok.lastError).toBeNull();
    const search = oracle('2026-11-20T00:00:00Z', '2026-11-22T00:00:00Z').services.find((s) => s.service === 'search')!;
    expect(ok.unownedServices).toEqual([
      {
        service: 'search',
        firstSeenDay: '2026-11-20',
        lastSeenDay: '2026-11-21',
        cost: { microdollars: String(search.microdollars), dollars: formatScaled(search.microdollars, 6) },
      },
    ]);
    expect((await get('/readyz')).body.details.catalog).toMatchObject({ status: 'up', revision: ok.current.revision });

    const file = path.join(dir, 'components.yaml');
    const good = await readFile(file, 'utf8');
    // A bad entity (a malformed owner reference) is reported and skipped; the rest loads as the revision in force.
    await writeFile(file, good.replace('owner: group:default/payments', 'owner: "group:default/no/such-team"'));
    try {
      const reload = await fetch(`${app.baseUrl}/api/v1/catalog/reload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}` },
      });
      const skipped = (await reload.json()) as Body;
      expect(reload.status).toBe(200);
      expect(skipped.current.revision).not.toBe(ok.current.revision);
      expect(skipped.current.services).not.toContainEqual(expect.objectContaining({ service: 'checkout' }));
      expect(skipped.current.problems).toEqual([expect.objectContaining({ file, field: 'spec.owner' })]);
      expect(skipped.lastError).toBeNull();
      expect((await get('/readyz')).body.details.catalog).toMatchObject({
        status: 'up',
        revision: skipped.current.revision,
      });
      // Nothing loadable at all: the revision in force stays, and the failed load is shown.
      await writeFile(file, 'kind: Component\nmetadata:\n  name: [unclosed\n');
      const groups = path.join(dir, 'groups.yaml');
      const groupsText = await readFile(groups, 'utf8');
      await writeFile(groups, '');
      try {
        const broken = (await (
          await fetch(`${app.baseUrl}/api/v1/catalog/reload`, {
            method: 'POST',
            headers: { authorization: `Bearer ${adminKey}` },
          })
        ).json()) as Body;
        expect(broken.current.revision).toBe(skipped.current.revision);
        expect(broken.lastError!.errors).toContainEqual(expect.objectContaining({ file, field: '(yaml)' }));
        const ready = await get('/readyz');
        expect(ready.status).toBe(200);
        expect(ready.body.details.catalog).toMatchObject({ status: 'degraded', revision: skipped.current.revision });
      } finally {
        await writeFile(groups, groupsText);
      }
    } finally {
      await writeFile(file, good);
    }
  });
});
