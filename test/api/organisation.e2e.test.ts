import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/domain/export/csv';
import { attributeDemo, startApiApp, type ApiTestApp } from './support';

let app: ApiTestApp;
let read: string;

beforeAll(async () => {
  app = await startApiApp();
  await attributeDemo(app);
  read = await app.key('read');
});
afterAll(() => app?.close());

const DAY_Q = 'from=2026-11-21&to=2026-11-22';
type Money = { microdollars: string };
const micro = (m: Money) => BigInt(m.microdollars);

describe('teams, services, functions', () => {
  it('/teams lists catalog teams and cost buckets; own costs add up to the total of /costs', async () => {
    const { status, body } = await app.get(`/api/v1/teams?${DAY_Q}`, read);
    expect(status).toBe(200);
    const costs = (await app.get(`/api/v1/costs?${DAY_Q}&groupBy=team`, read)).body;
    const names = body.teams.map((t: { team: string }) => t.team);
    expect(names).toContain('payments');
    expect(names).toContain('__unowned__');
    expect(body.teams.reduce((s: bigint, t: { cost: Money }) => s + micro(t.cost), 0n)).toBe(micro(costs.total.cost));
    const payments = body.teams.find((t: { team: string }) => t.team === 'payments');
    expect(payments).toMatchObject({ kind: 'group', email: expect.stringContaining('@') });
    const csv = parseCsv((await app.get(`/api/v1/teams?${DAY_Q}&format=csv`, read)).text);
    expect(csv[0]).toEqual(
      expect.arrayContaining(['team', 'kind', 'cost_microdollars', 'cost_dollars', 'share', 'change_percent']),
    );
    expect(csv.slice(1).map((r) => r[0])).toEqual(names);
  });

  it('/teams/{team}: contacts, parent, cost, trend and services agree with /costs', async () => {
    const { status, body } = await app.get(`/api/v1/teams/payments?from=2026-11-20&to=2026-11-22`, read);
    expect(status).toBe(200);
    const row = (await app.get(`/api/v1/costs?from=2026-11-20&to=2026-11-22&groupBy=team`, read)).body.rows.find(
      (r: { key: string }) => r.key === 'payments',
    );
    expect(body.cost).toEqual(row.cost);
    expect(body.contacts.email).toContain('@');
    expect(body.trend.map((p: { label: string }) => p.label)).toEqual(['2026-11-20', '2026-11-21']);
    expect(body.trend.reduce((s: bigint, p: { cost: Money }) => s + micro(p.cost), 0n)).toBe(micro(body.cost));
    expect(body.services.map((s: { key: string }) => s.key)).toContain('checkout');
    expect((await app.get(`/api/v1/teams/no-such-team?${DAY_Q}`, read)).status).toBe(404);
  });

  it('/services/{service}: owner, cost and CPU, trend, top functions', async () => {
    const { status, body } = await app.get(`/api/v1/services/checkout?${DAY_Q}&step=hour`, read);
    expect(status).toBe(200);
    const row = (await app.get(`/api/v1/costs?${DAY_Q}&groupBy=service&service=checkout`, read)).body.rows[0];
    expect(body).toMatchObject({
      service: 'checkout',
      owner: 'payments',
      inCatalog: true,
      cost: row.cost,
      cpuNanoseconds: row.cpuNanoseconds,
      coreHours: row.coreHours,
    });
    expect(body.trend).toHaveLength(24);
    expect(body.trend.reduce((s: bigint, p: { cost: Money }) => s + micro(p.cost), 0n)).toBe(micro(body.cost));
    expect(body.topFunctions.length).toBe(10);
    const selfs = body.topFunctions.map((f: { cost: Money }) => micro(f.cost));
    expect(selfs).toEqual([...selfs].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    const search = (await app.get(`/api/v1/services/search?${DAY_Q}`, read)).body;
    expect(search).toMatchObject({ owner: '__unowned__', inCatalog: false });
    expect((await app.get(`/api/v1/services/nothing?${DAY_Q}`, read)).status).toBe(404);
  });

  it('/functions/{name}: the services that pay for it, self summing to its total', async () => {
    const top = (await app.get(`/api/v1/costs?${DAY_Q}&groupBy=function&limit=1`, read)).body.rows[0];
    const { status, body } = await app.get(`/api/v1/functions/${encodeURIComponent(top.key)}?${DAY_Q}`, read);
    expect(status).toBe(200);
    expect(body.function).toBe(top.key);
    expect(body.services.reduce((s: bigint, r: { cost: Money }) => s + micro(r.cost), 0n)).toBe(micro(body.total.cost));
    expect(micro(body.total.cost)).toBe(micro(top.cost));
    expect((await app.get(`/api/v1/functions/no.such.function?${DAY_Q}`, read)).status).toBe(404);
    const csv = parseCsv(
      (await app.get(`/api/v1/functions/${encodeURIComponent(top.key)}?${DAY_Q}&format=csv`, read)).text,
    );
    expect(csv.slice(1).map((r) => [r[0], r[2]])).toEqual(
      body.services.map((r: { key: string; cost: Money }) => [r.key, r.cost.microdollars]),
    );
  });

  it('/catalog/revisions and /prices', async () => {
    const revisions = (await app.get('/api/v1/catalog/revisions', read)).body;
    expect(revisions.revisions[0]).toMatchObject({ status: 'ok', id: revisions.current });
    const prices = (await app.get('/api/v1/prices', read)).body;
    expect(prices).toMatchObject({ scheduleId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), currency: 'USD' });
    expect(prices.prices).toEqual([
      {
        id: 'default@2026-01-01T00:00:00.000Z',
        costPerCoreHour: '0.0316',
        nanosPerCoreHour: '31600000',
        effectiveFrom: '2026-01-01T00:00:00.000Z',
        scope: { kind: 'default' },
        inForce: true,
      },
      {
        id: 'service=checkout@2026-01-01T00:00:00.000Z',
        costPerCoreHour: '0.05',
        nanosPerCoreHour: '50000000',
        effectiveFrom: '2026-01-01T00:00:00.000Z',
        scope: { kind: 'service', value: 'checkout' },
        inForce: true,
      },
    ]);
    const books = (await app.get(`/api/v1/books?${DAY_Q}`, read)).body;
    expect(books.provenance.priceSchedules).toEqual([prices.scheduleId]);
    expect(parseCsv((await app.get('/api/v1/prices', read, { accept: 'text/csv' })).text)).toHaveLength(3);
  });
});
