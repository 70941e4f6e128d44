import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLoadReport, runIngestLoad } from '../../bench/ingest-load';
import { pushBodies } from '../../bench/support/push-bodies';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';

const FIXTURES = join(__dirname, '..', 'fixtures', 'profiles');
const FILES = [
  'golang-go/default.pgo',
  'grafana-pyroscope/cortex-dev-01__kafka-0__cpu__0.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz',
  'grafana-pyroscope/cpu.pprof',
].map((f) => join(FIXTURES, f));

let app: TestApp;
let db: DataSource;

beforeAll(async () => {
  // maxConcurrentRequests below the generator's concurrency, so some pushes get 429: those must leave no trace.
  app = await startTestApp({
    logLevel: 'warn',
    settings: {
      schedules: { enabled: false, demo: false },
      ingest: { rateLimit: { bytesPerSecond: 0 }, maxConcurrentRequests: 6 },
    },
  });
  db = await testDataSource();
  await truncateTables(db, ['profiles', 'dirty_windows']);
});
afterAll(() => app?.close());

describe('push under load', () => {
  it('counts every 200 exactly once and nothing else', async () => {
    const report = await runIngestLoad({
      baseUrl: app.baseUrl,
      bodies: pushBodies(FILES, 1795316400),
      concurrency: 8,
      durationMs: 5000,
      maxRequests: 5000,
    });
    process.stdout.write(`ingest load (test, 5 s, 8 concurrent): ${formatLoadReport(report)}\n`);

    expect(report.errors).toBe(0);
    expect(report.ok).toBeGreaterThan(20);
    expect(Object.keys(report.statuses).every((s) => s === '200' || s === '429')).toBe(true);
    const stored = report.results.filter((r) => r.status === 200);
    expect(stored.every((r) => r.answer.status === 'stored')).toBe(true);

    const rows = (await db.query(`SELECT id::text AS id, cpu_nanoseconds::text AS cpu FROM profiles`)) as Array<{
      id: string;
      cpu: string;
    }>;
    expect(rows.length).toBe(stored.length);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(stored.map((r) => String(r.answer.id))));
    const answered = stored.reduce((sum, r) => sum + BigInt(String(r.answer.cpuNanoseconds)), 0n);
    expect(rows.reduce((sum, r) => sum + BigInt(r.cpu), 0n)).toBe(answered);
  });
});
