import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { DemoLoader } from '../../src/demo/demo.loader';
import { JobsService } from '../../src/jobs/jobs.service';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';

const HOUR = 3_600_000;

describe('demo profiles at first start', () => {
  let app: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    app = await startTestApp();
  });
  afterAll(async () => app?.close());

  it('loads the shipped profiles into the last complete windows once, and attribution prices them', async () => {
    const now = new Date(Date.UTC(2026, 10, 22, 9, 17));
    const loader = app.app.get(DemoLoader);
    expect(await loader.loadIfEmpty(now)).toBe(36); // six services x six hourly windows
    expect(await loader.loadIfEmpty(now)).toBe(0); // something is stored: never twice

    const windows: { window_start: Date; services: number }[] = await db.query(
      `SELECT window_start, count(DISTINCT service)::int AS services FROM profiles WHERE source = 'demo' GROUP BY 1 ORDER BY 1`,
    );
    expect(windows.map((w) => w.window_start.getTime())).toEqual(
      Array.from({ length: 6 }, (_, i) => Date.UTC(2026, 10, 22, 3, 0) + i * HOUR), // the newest ends at 09:00, the last complete hour
    );
    expect(windows.every((w) => w.services === 6)).toBe(true);

    const summary = await app.app.get(JobsService).run('attribute');
    expect(summary).toMatchObject({ status: 'succeeded', counts: { windows: 6, done: 6, failed: 0 } });

    const [totals] = await db.query(`
      SELECT (SELECT sum(total_microdollars) FROM cost_windows)::text AS bill,
             (SELECT sum(microdollars) FROM cost_service_windows)::text AS services,
             (SELECT sum(cpu_nanoseconds) FROM cost_service_windows)::text AS cpu,
             (SELECT sum(cpu_nanoseconds) FROM profiles WHERE source = 'demo')::text AS stored_cpu`);
    expect(BigInt(totals.bill)).toBeGreaterThan(0n);
    expect(totals.services).toBe(totals.bill);
    expect(totals.cpu).toBe(totals.stored_cpu);
    const unowned: { team: string }[] = await db.query(
      `SELECT DISTINCT team FROM cost_service_windows WHERE service = 'search'`,
    );
    expect(unowned).toEqual([{ team: '__unowned__' }]); // search is deliberately missing from catalog/
  });
});
