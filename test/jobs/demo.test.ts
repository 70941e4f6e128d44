import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { CostQueryService } from '../../src/cost/cost-query.service';
import { DemoLoader, type DemoLoad } from '../../src/demo/demo.loader';
import { RegressionsService } from '../../src/regressions/regressions.service';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A shorter replay than the first start's 28 days keeps the test quick; the plan's length is a parameter. */
const DAYS = 9;

describe('the demo of a first start', () => {
  let app: TestApp;
  let db: DataSource;
  let load: DemoLoad | null;
  // Wednesday 2026-11-25 09:17 UTC: the replay ends at 09:00, the scan's current day is the 24th.
  const now = new Date(Date.UTC(2026, 10, 25, 9, 17));

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    // schedules.demo on (the settings loader prices the demo source), no scheduled jobs: the test runs the first start.
    app = await startTestApp({ settings: { schedules: { demo: true } } });
    load = await app.app.get(DemoLoader).firstStart(now, DAYS * 24);
  }, 120_000);
  afterAll(async () => app?.close());

  it('replays the shipped profiles over every hourly window up to the last complete one, once', async () => {
    expect(load).toEqual({
      profiles: DAYS * 24 * 6,
      from: new Date(Date.UTC(2026, 10, 25, 9) - DAYS * DAY),
      to: new Date(Date.UTC(2026, 10, 25, 9)),
    });
    expect(await app.app.get(DemoLoader).firstStart(now, DAYS * 24)).toBeNull(); // something is stored: never twice
    const windows: { window_start: Date; services: number; digests: number }[] = await db.query(
      `SELECT window_start, count(DISTINCT service)::int AS services, count(*)::int AS digests
         FROM profiles WHERE source = 'demo' GROUP BY 1 ORDER BY 1`,
    );
    expect(windows.map((w) => w.window_start.getTime())).toEqual(
      Array.from({ length: DAYS * 24 }, (_, i) => load!.from.getTime() + i * HOUR),
    );
    expect(windows.every((w) => w.services === 6 && w.digests === 6)).toBe(true);
    // The same 36 real profiles, each stored under many windows, bytes untouched.
    const [{ distinct }] = await db.query(`SELECT count(DISTINCT digest)::int AS distinct FROM profiles`);
    expect(distinct).toBeLessThanOrEqual(36);
  });

  it('prices the demo as 2,400 cores at $0.04 an hour: every full week is $16,128.00, idle included, books balanced', async () => {
    const costs = app.app.get(CostQueryService);
    // Hourly buckets: the replay starts and ends on the hour.
    const books = await costs.books({ from: load!.from, to: load!.to, step: 'hour' });
    const period = books.lines.at(-1)!;
    expect(period.label).toBe('period');
    expect(period.windows).toBe(DAYS * 24);
    expect(period.balanced).toBe(true);
    expect(Object.values(period.differences)).toEqual([0n, 0n, 0n, 0n]);
    expect(period.total).toBe(BigInt(DAYS * 24) * 2_400n * 40_000n); // micro-dollars: 2,400 core-hours at $0.04, hourly
    expect(period.idle).toBeGreaterThan(0n);
    expect(period.allocated).toBe(period.total);
    // Two full weeks of whole days inside the replay (Tuesday to Tuesday, Monday to Monday).
    for (const [from, to] of [
      [Date.UTC(2026, 10, 17), Date.UTC(2026, 10, 24)],
      [Date.UTC(2026, 10, 18), Date.UTC(2026, 10, 25)],
    ] as const) {
      const week = await costs.books({ from: new Date(from), to: new Date(to), step: 'day' });
      expect(week.lines.at(-1)!.total).toBe(16_128_000_000n); // 168 h × 2,400 cores × $0.04 = $16,128.00
    }
    // The fleet is neither empty nor overcommitted: the profiled use is between 40 % and 80 % of it in every window.
    const [use] = await db.query(
      `SELECT min(1 - idle_microdollars::numeric / total_microdollars)::float AS min,
              max(1 - idle_microdollars::numeric / total_microdollars)::float AS max FROM cost_windows`,
    );
    expect(use.min).toBeGreaterThan(0.4);
    expect(use.max).toBeLessThan(0.8);
  });

  it('finds both planted regressions (checkout 1.15.0, recommendations 3.2.0) and records their tickets in dry run', async () => {
    const findings = await app.app.get(RegressionsService).list({});
    expect(findings.map((f) => [f.service, f.function, f.kind, f.state]).sort()).toEqual([
      ['checkout', 'signOrder', 'flat', 'open'],
      ['recommendations', 'diversify', 'flat', 'open'],
    ]);
    for (const finding of findings) {
      expect(finding.impactPerYearMicros).toBeGreaterThan(1_000_000_000n); // above the default $1,000 a year
      expect(finding.ticket).toEqual({
        fingerprint: finding.fingerprint,
        tracker: 'github',
        project: `acme/${finding.service}`,
        remoteId: null,
        url: null,
        dryRun: true,
      });
    }
    const outbox: { sent: boolean; dry_run: boolean }[] = await db.query(
      `SELECT sent_at IS NOT NULL AS sent, dry_run FROM regression_outbox`,
    );
    expect(outbox).toEqual([
      { sent: true, dry_run: true },
      { sent: true, dry_run: true },
    ]);
  });
});
