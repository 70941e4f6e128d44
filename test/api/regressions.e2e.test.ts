import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDataSource, truncateTables } from '../support/database';
import { queueFinding } from '../regressions/support';
import { startApiApp, type ApiTestApp } from './support';

/** `GET /api/v1/regressions`: what the email and the dashboard read of the regression scan. */
describe('GET /api/v1/regressions', () => {
  let app: ApiTestApp;
  let db: DataSource;
  let key: string;

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    app = await startApiApp();
    key = await app.key('read');
    await queueFinding(db, 'checkout');
    await queueFinding(db, 'ledger', 'resolved');
  });
  afterAll(async () => app?.close());

  it('lists findings with their figures, filtered by state, team and service, money as strings', async () => {
    const all = await app.get('/api/v1/regressions', key);
    expect(all.status).toBe(200);
    expect(all.body.regressions.map((r: { service: string }) => r.service).sort()).toEqual(['checkout', 'ledger']);
    const open = await app.get('/api/v1/regressions?state=open&team=shop-team', key);
    expect(open.body.regressions).toHaveLength(1);
    expect(open.body.regressions[0]).toMatchObject({
      service: 'checkout',
      function: 'main.validateEmail',
      state: 'open',
      impactPerYear: { microdollars: '4900000', dollars: '4.9' },
      cpuNanosecondsDelta: '1103159144',
      currentVersion: 'v2',
      ticket: null,
    });
    expect((await app.get('/api/v1/regressions?service=ledger', key)).body.regressions[0].state).toBe('resolved');
  });

  it('answers CSV too: one row per finding, the same figures as the JSON', async () => {
    const csv = await app.get('/api/v1/regressions?state=open&format=csv', key);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, ...rows] = csv.text.trim().split(/\r?\n/);
    expect(header!.split(',').slice(0, 6)).toEqual(['fingerprint', 'service', 'function', 'kind', 'team', 'state']);
    expect(rows).toHaveLength(1);
    const fields = rows[0]!.split(',');
    expect(fields.slice(1, 6)).toEqual(['checkout', 'main.validateEmail', expect.any(String), 'shop-team', 'open']);
    expect(fields[header!.split(',').indexOf('impact_per_year')]).toBe('4.9');
  });

  it('needs a key and refuses unknown values', async () => {
    expect((await app.get('/api/v1/regressions', null)).status).toBe(401);
    const bad = await app.get("/api/v1/regressions?state=closed';--", key);
    expect(bad).toMatchObject({ status: 400, body: { param: 'state' } });
  });
});
