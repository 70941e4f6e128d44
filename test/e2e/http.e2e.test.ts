import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadinessRegistry } from '../../src/health/readiness.registry';
import { startTestApp, type TestApp } from '../support/app';
import { createEmptyDatabase } from '../support/database';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

async function getJson(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${app.baseUrl}${path}`, { headers });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

describe('GET /healthz', () => {
  it('answers 200 while the process is up', async () => {
    const { status, body } = await getJson('/healthz');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', details: { process: { status: 'up' } } });
  });
});

describe('GET /readyz', () => {
  it('answers 200 with one entry per check when the database is reachable and migrated', async () => {
    const { status, body } = await getJson('/readyz');
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.details).toMatchObject({ database: { status: 'up' }, migrations: { status: 'up' } });
    const migrations = (body.details as Record<string, { applied: number; expected: number }>).migrations;
    expect(migrations.applied).toBe(migrations.expected);
    expect(migrations.expected).toBeGreaterThan(0);
  });

  it('shows checks registered by other modules: degraded keeps 200, down gives 503', async () => {
    const registry = app.app.get(ReadinessRegistry);
    let state: 'degraded' | 'down' = 'degraded';
    registry.register('example-check', () => ({ status: state, lastError: 'example.yaml:3: bad owner' }));
    try {
      const degraded = await getJson('/readyz');
      expect(degraded.status).toBe(200);
      expect(degraded.body).toMatchObject({
        status: 'degraded',
        details: { 'example-check': { status: 'degraded', lastError: 'example.yaml:3: bad owner' } },
      });
      state = 'down';
      const down = await getJson('/readyz');
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({
        status: 'error',
        error: { 'example-check': { status: 'down' } },
        info: { database: { status: 'up' } },
      });
    } finally {
      registry.unregister('example-check');
    }
    expect((await getJson('/readyz')).status).toBe(200);
  });

  it('answers 503 naming the pending migrations on a database that was never migrated', async () => {
    const unmigrated = await startTestApp({
      databaseUrl: await createEmptyDatabase('unmigrated'),
      migrateOnStart: false,
    });
    try {
      const response = await fetch(`${unmigrated.baseUrl}/readyz`);
      const body = (await response.json()) as {
        error: { migrations: { status: string; pending: string[]; applied: number } };
      };
      expect(response.status).toBe(503);
      expect(body.error.migrations.status).toBe('down');
      expect(body.error.migrations.applied).toBe(0);
      expect(body.error.migrations.pending).toContain('InitialSchema1795318535842');
    } finally {
      await unmigrated.close();
    }
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text with process metrics and request durations by route pattern', async () => {
    await fetch(`${app.baseUrl}/healthz`);
    await fetch(`${app.baseUrl}/no/such/page`);
    const response = await fetch(`${app.baseUrl}/metrics`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",route="\(unmatched\)",status_code="404"\} [1-9]/m,
    );
    expect(text).not.toContain('/no/such/page');
  });
});

describe('request ids', () => {
  it('honours a well-formed x-request-id, echoes it and logs it', async () => {
    const response = await fetch(`${app.baseUrl}/no/such/thing`, { headers: { 'x-request-id': 'trace-42.a:b' } });
    expect(response.headers.get('x-request-id')).toBe('trace-42.a:b');
    const line = app.logs().find((log) => log.reqId === 'trace-42.a:b');
    expect(line).toMatchObject({
      level: 'warn',
      msg: 'request completed',
      req: { method: 'GET', url: '/no/such/thing' },
      res: { statusCode: 404 },
    });
  });

  it('generates a UUID when the header is missing or unsafe', async () => {
    const generated = (await fetch(`${app.baseUrl}/healthz`)).headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const replaced = (await fetch(`${app.baseUrl}/healthz`, { headers: { 'x-request-id': 'a b\u00e9' } })).headers.get(
      'x-request-id',
    );
    expect(replaced).not.toBe('a b\u00e9');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });
});
