import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { CatalogService } from '../../src/catalog/catalog.service';
import { queryOnce } from '../../src/database/query-once';
import { startTestApp, type TestApp } from '../support/app';
import { testDatabaseUrl } from '../support/database';

/**
 * The database goes away while the service runs (as in a PostgreSQL restart or failover) and comes back: the
 * service says so in /readyz while it is away, keeps running, and is ready and running jobs again as soon as it is
 * back, without a restart of its own. The outage is made on this file's own database only (connections refused and
 * cut), so other test files sharing the server are not touched.
 */
describe('a database outage', () => {
  let app: TestApp;
  let database: string;
  const admin = (sql: string, params: unknown[] = []) => queryOnce(inject('testDatabase').adminUrl, sql, params);

  beforeAll(async () => {
    database = new URL(await testDatabaseUrl()).pathname.slice(1);
    // attribute every second: a job that needs the database at every tick.
    app = await startTestApp({
      logLevel: 'fatal',
      settings: { schedules: { enabled: true, demo: false, attribute: '* * * * * *' } },
    });
  });
  afterAll(async () => {
    await admin(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
    await app?.close();
  });

  const readyz = async (): Promise<{ status: number; body: Record<string, { status: string }> }> => {
    const response = await fetch(`${app.baseUrl}/readyz`);
    const json = (await response.json()) as { details: Record<string, { status: string }> };
    return { status: response.status, body: json.details };
  };

  it('is reported by /readyz while it lasts, and the service is ready and runs jobs again within seconds of its return', async () => {
    await vi.waitFor(async () => expect((await readyz()).status).toBe(200), { timeout: 10_000 });

    await admin(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
    await admin(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [database],
    );
    // The catalog's periodic re-check runs during the outage, as it would within its minute.
    await (app.app.get(CatalogService) as unknown as { reloadLogged(): Promise<void> }).reloadLogged();
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.database?.status).toBe('down');
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);

    await admin(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
    const back = Date.now();
    await vi.waitFor(async () => expect((await readyz()).status).toBe(200), { timeout: 10_000, interval: 250 });
    expect(Date.now() - back).toBeLessThan(10_000);
    await vi.waitFor(async () => expect((await readyz()).body.catalog?.status).toBe('up'), {
      timeout: 10_000,
      interval: 250,
    });
    await vi.waitFor(
      async () => {
        const runs = await queryOnce<{ n: number }>(
          await testDatabaseUrl(),
          `SELECT count(*)::int AS n FROM job_runs WHERE job = 'attribute' AND status = 'succeeded' AND started_at > $1`,
          [new Date(back)],
        );
        expect(runs[0]!.n).toBeGreaterThan(0);
      },
      { timeout: 15_000, interval: 500 },
    );
  });
});
