import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { DemoLoader } from '../../src/demo/demo.loader';
import { JobsService } from '../../src/jobs/jobs.service';
import { CostQueryService } from '../../src/cost/cost-query.service';
import { RetentionJob } from '../../src/retention/retention.job';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';

const SETTINGS = { rawProfileDays: 30, profileDays: 365, factDays: 365, auditDays: 400 };

async function counts(db: DataSource): Promise<Record<string, number>> {
  const [row] = await db.query(`SELECT
    (SELECT count(*) FROM profiles)::int AS profiles,
    (SELECT count(*) FROM profiles WHERE raw IS NOT NULL)::int AS raw,
    (SELECT count(*) FROM cost_windows)::int AS windows,
    (SELECT count(*) FROM cost_service_windows)::int AS service_windows,
    (SELECT count(*) FROM cost_function_splits)::int AS splits,
    (SELECT count(*) FROM cost_function_day_blocks)::int AS function_blocks,
    (SELECT count(*) FROM cost_label_windows)::int AS label_windows,
    (SELECT count(*) FROM cost_label_days)::int AS label_days,
    (SELECT count(*) FROM cost_provenance_days)::int AS provenance_days,
    (SELECT count(*) FROM cost_service_days)::int AS service_days,
    (SELECT count(*) FROM cost_team_days)::int AS team_days`);
  return row;
}

describe('retention job', () => {
  let app: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    app = await startTestApp();
    await app.app.get(DemoLoader).loadIfEmpty(new Date(Date.UTC(2026, 10, 22, 9, 17)), 6);
    await app.app.get(JobsService).run('attribute');
    // Small raw bytes on every row (the demo keeps its real ones; the drop is what is tested).
    await db.query(`UPDATE profiles SET raw = '\\x1f8b'::bytea`);
  });
  afterAll(async () => app?.close());

  it('drops raw bytes, profiles and month partitions only once they are entirely past their period, keeping daily rollups', async () => {
    const retention = app.app.get(RetentionJob);
    const before = await counts(db);
    expect(before).toMatchObject({ profiles: 36, raw: 36, windows: 6, service_windows: 36 });
    expect(before.function_blocks).toBeGreaterThan(0);
    expect(before.label_windows).toBeGreaterThan(0);
    expect(before.label_days).toBeGreaterThan(0);
    expect(before.provenance_days).toBeGreaterThan(0);

    // 31 days later: only raw bytes are past their 30 days.
    expect(await retention.apply(new Date(Date.UTC(2026, 11, 23, 12)), SETTINGS)).toMatchObject({
      rawProfilesDropped: 36,
      profilesDeleted: 0,
      factPartitionsDropped: 0,
    });
    expect(await counts(db)).toEqual({ ...before, raw: 0 });

    // 365 days later the November 2026 month is not yet entirely older than the cutoff (2026-11-23).
    expect(await retention.apply(new Date(Date.UTC(2027, 10, 23, 12)), SETTINGS)).toMatchObject({
      profilesDeleted: 36,
      factPartitionsDropped: 0,
    });
    expect(await counts(db)).toMatchObject({ profiles: 0, windows: 6, service_windows: 36 });

    // A read of a service's functions builds the query service's per-service copy of the day.
    await app.app.get(CostQueryService).topFunctions({
      from: new Date('2026-11-22T00:00:00Z'),
      to: new Date('2026-11-23T00:00:00Z'),
      step: 'day',
      scope: { kind: 'service', service: 'checkout' },
      by: 'self',
    });
    // And a read of a whole ISO week builds its weekly copy.
    await app.app.get(CostQueryService).topFunctions({
      from: new Date('2026-11-16T00:00:00Z'),
      to: new Date('2026-11-23T00:00:00Z'),
      step: 'week',
      scope: { kind: 'service', service: 'checkout' },
      by: 'self',
    });
    const copies = async (): Promise<number> =>
      ((await db.query(`SELECT count(*)::int AS n FROM cost_function_service_days`)) as Array<{ n: number }>)[0]!.n;
    const weekCopies = async (): Promise<number> =>
      ((await db.query(`SELECT count(*)::int AS n FROM cost_function_service_weeks`)) as Array<{ n: number }>)[0]!.n;
    expect(await copies()).toBeGreaterThan(0);
    expect(await weekCopies()).toBeGreaterThan(0);

    // Audit rows and finished job requests older than auditDays go; a pending request stays.
    await db.query(`INSERT INTO api_audit (key_name, scope, method, path, query, status, at)
                    VALUES ('old', 'admin', 'POST', '/api/v1/catalog/reload', '', 200, '2026-10-01T00:00:00Z'),
                           ('new', 'admin', 'POST', '/api/v1/catalog/reload', '', 200, '2027-11-01T00:00:00Z')`);
    await db.query(`INSERT INTO job_requests (job, requested_by, requested_at, status)
                    VALUES ('attribute', 'old', '2026-10-01T00:00:00Z', 'succeeded'),
                           ('attribute', 'old', '2026-10-01T00:00:00Z', 'pending')`);

    // Once the cutoff passes December 1st, November's hourly and function-day partitions go; rollups stay.
    const dropped = await retention.apply(new Date(Date.UTC(2027, 11, 2, 12)), SETTINGS);
    expect(dropped).toMatchObject({ auditRowsDeleted: 1, jobRequestsDeleted: 1 });
    expect(await db.query(`SELECT key_name FROM api_audit`)).toEqual([{ key_name: 'new' }]);
    expect(await db.query(`SELECT status FROM job_requests`)).toEqual([{ status: 'pending' }]);
    expect(dropped.factPartitionsDropped).toBe(6); // 4 hourly tables + function day blocks and tops
    expect(await copies()).toBe(0);
    expect(await weekCopies()).toBe(0);
    expect(await counts(db)).toEqual({
      profiles: 0,
      raw: 0,
      windows: 0,
      service_windows: 0,
      splits: 0,
      function_blocks: 0,
      // The daily label and provenance rollups go with the hourly rows they were taken from.
      label_windows: 0,
      label_days: 0,
      provenance_days: 0,
      service_days: before.service_days,
      team_days: before.team_days,
    });
  });
  it('forgets finished job runs older than profileDays but keeps each job’s latest success and running runs', async () => {
    const retention = app.app.get(RetentionJob);
    await db.query(`DELETE FROM job_runs`);
    const run = async (job: string, status: string, startedAt: string) => {
      const [row] = (await db.query(
        `INSERT INTO job_runs (job, status, started_at, finished_at, host)
         VALUES ($1, $2, $3::timestamptz, CASE WHEN $2 = 'running' THEN NULL ELSE $3::timestamptz + interval '1 minute' END, 'test')
         RETURNING id::text AS id`,
        [job, status, startedAt],
      )) as Array<{ id: string }>;
      return row!.id;
    };
    const oldSuccess = await run('pull-pyroscope', 'succeeded', '2026-01-01T00:00:00Z');
    const lastSuccess = await run('pull-pyroscope', 'succeeded', '2026-01-02T00:00:00Z');
    await run('pull-pyroscope', 'failed', '2026-01-03T00:00:00Z');
    const stuck = await run('attribute', 'running', '2026-01-01T00:00:00Z');
    const recent = await run('compact-pushes', 'succeeded', '2026-11-30T00:00:00Z');
    await run('compact-pushes', 'succeeded', '2026-02-01T00:00:00Z');
    const counts = await retention.apply(new Date('2026-12-05T00:00:00Z'), { ...SETTINGS, profileDays: 30 });
    expect(counts.jobRunsDeleted).toBe(3);
    const left = (await db.query(`SELECT id::text AS id FROM job_runs ORDER BY id`)) as Array<{ id: string }>;
    expect(left.map((r) => r.id)).toEqual([lastSuccess, stuck, recent]);
    expect(left.map((r) => r.id)).not.toContain(oldSuccess);
  });
});
