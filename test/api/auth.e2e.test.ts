import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../src/api/auth/api-key.service';
import { startApiApp, type ApiTestApp } from './support';

let app: ApiTestApp;

beforeAll(async () => {
  app = await startApiApp();
});
afterAll(() => app?.close());

const COSTS = '/api/v1/costs?from=2026-11-21&to=2026-11-22';

describe('API keys', () => {
  it('no key, a malformed, unknown or revoked key answer 401 in the error shape; a good key 200', async () => {
    const keys = app.app.get(ApiKeyService);
    const { key } = await keys.create('auth-revoked', ['read']);
    expect((await app.get(COSTS, key)).status).toBe(200);
    await keys.revoke('auth-revoked');
    const none = await app.get(COSTS, null);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringContaining('Bearer') });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    for (const bad of ['nonsense', `fbk_${'A'.repeat(43)}`, key, `${key}x`]) {
      const r = await app.get(COSTS, bad);
      expect({ bad, status: r.status, error: r.body.error }).toEqual({ bad, status: 401, error: 'Unauthorized' });
    }
    const basic = await fetch(`${app.baseUrl}${COSTS}`, {
      headers: { authorization: `Basic ${Buffer.from(`x:${key}`).toString('base64')}` },
    });
    expect(basic.status).toBe(401);
  });

  it('stores only a hash of the key', async () => {
    const { key, row } = await app.app.get(ApiKeyService).create('auth-hash', ['read']);
    const rows = (await app.app.get(DataSource).query(`SELECT t::text AS row FROM api_keys t`)) as Array<{
      row: string;
    }>;
    expect(rows.map((r) => r.row).join('\n')).not.toContain(key.slice(8));
    expect(row.prefix).toBe(key.slice(0, 8));
    expect(
      app
        .logs()
        .map((l) => JSON.stringify(l))
        .join('\n'),
    ).not.toContain(key.slice(8));
  });

  it('a key without the scope answers 403; admin routes need admin, export routes export', async () => {
    const read = await app.key('read');
    const admin = await app.key('admin');
    expect((await app.get('/api/v1/audit', read)).status).toBe(403);
    expect((await app.get('/api/v1/audit', read)).body).toMatchObject({
      statusCode: 403,
      error: 'Forbidden',
      message: expect.stringContaining('admin'),
    });
    expect((await app.get('/api/v1/audit', admin)).status).toBe(200);
    expect((await app.get(COSTS, admin)).status).toBe(403);
    const reload = await fetch(`${app.baseUrl}/api/v1/catalog/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${read}` },
    });
    expect(reload.status).toBe(403);
    const reloaded = await fetch(`${app.baseUrl}/api/v1/catalog/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(reloaded.status).toBe(200);
  });

  it('probes, metrics and the OpenAPI document stay open; helmet sets security headers', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/docs/openapi.json'])
      expect({ path, status: (await app.get(path, null)).status }).toEqual({ path, status: 200 });
    const r = await app.get('/healthz', null);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(r.headers.get('strict-transport-security')).toMatch(/max-age=/);
    expect(r.headers.get('x-powered-by')).toBeNull();
  });

  it('audits export and admin calls, refused ones too, with the key name', async () => {
    const admin = await app.key('admin');
    const read = await app.key('read');
    await fetch(`${app.baseUrl}/api/v1/catalog/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${read}` },
    });
    await fetch(`${app.baseUrl}/api/v1/catalog/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    await new Promise((r) => setTimeout(r, 100));
    const { body } = await app.get('/api/v1/audit?limit=10', admin);
    const reloads = body.rows.filter((r: { path: string }) => r.path === '/api/v1/catalog/reload');
    expect(
      reloads.slice(0, 2).map((r: { status: number; scope: string; method: string }) => [r.status, r.scope, r.method]),
    ).toEqual([
      [200, 'admin', 'POST'],
      [403, 'admin', 'POST'],
    ]);
    expect(reloads[0].keyName).toMatch(/^test-/);
    const csv = await app.get('/api/v1/audit?limit=3&format=csv', admin);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe('id,at,key_name,scope,method,path,query,status,request_id');
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once a key has spent its burst; other keys are not affected', async () => {
    const limited = await startApiApp({ api: { rateLimit: { requestsPerMinute: 6, burst: 3 } } });
    try {
      const key = await limited.key('read');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.get(COSTS, key)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await limited.get(COSTS, key);
      expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(10);
      expect((await limited.get(COSTS, await limited.key('read'))).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
