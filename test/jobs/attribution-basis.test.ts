import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttributeJob } from '../../src/cost/attribute.job';
import { priceScheduleOf } from '../../src/cost/price-schedule';
import { DemoLoader } from '../../src/demo/demo.loader';
import { priceSettingsSchema } from '../../src/domain/cost';
import type { JobContext } from '../../src/jobs/job-runner';
import { JobsService } from '../../src/jobs/jobs.service';
import { WorkQueueRepository } from '../../src/jobs/work-queue.repository';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';

const OLD = [{ costPerCoreHour: '0.02', effectiveFrom: '2026-01-01' }];
const NEW = [{ costPerCoreHour: '0.05', effectiveFrom: '2026-01-01' }];

/**
 * Two replicas on one database, one with the new prices (where `flamebill run attribute --from --to` runs after a
 * price change) and one still on the old ones. Whichever claims an item must compute it with what it was planned
 * with.
 */
describe('an attribution work item carries its price schedule and catalog revision', () => {
  let db: DataSource;
  let planner: TestApp;
  let stale: TestApp;

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    planner = await startTestApp({ settings: { prices: NEW } });
    stale = await startTestApp({ settings: { prices: OLD } });
    await planner.app.get(DemoLoader).loadIfEmpty(new Date(Date.UTC(2026, 10, 22, 9, 17)), 6);
    // Everything attributed once with the old prices: nothing is dirty any more.
    expect(await stale.app.get(JobsService).run('attribute')).toMatchObject({
      status: 'succeeded',
      counts: { windows: 6 },
    });
  });
  afterAll(async () => {
    await planner?.close();
    await stale?.close();
  });

  it('a replica with other settings that claims the planned items prices them with the planned schedule, and says so', async () => {
    const newId = priceScheduleOf(priceSettingsSchema.parse({ prices: NEW })).id;
    const oldId = priceScheduleOf(priceSettingsSchema.parse({ prices: OLD })).id;
    const [{ from, to }] = await db.query(`SELECT min(window_start) AS from, max(window_end) AS to FROM profiles`);
    // The backfill is planned on the replica with the new prices; its items wait in the shared queue...
    const queue = planner.app.get(WorkQueueRepository);
    const enqueueOnly = {
      options: { from, to },
      signal: new AbortController().signal,
      work: async (items: Parameters<JobContext['work']>[0]) => {
        await queue.enqueue(items, 'again');
        return { counts: { done: 0, failed: 0 }, errors: [] };
      },
      run: () => Promise.reject(new Error('not used')),
    } as unknown as JobContext;
    await planner.app.get(AttributeJob).run(enqueueOnly);
    // ...and the stale replica's scheduled attribution claims every one of them.
    expect(await stale.app.get(JobsService).run('attribute')).toMatchObject({ status: 'succeeded' });
    expect(
      await db.query(`SELECT status, count(*)::int AS n FROM work_items WHERE job = 'attribute' GROUP BY status`),
    ).toEqual([{ status: 'done', n: 6 }]);

    const schedules = (await db.query(`SELECT DISTINCT price_schedule_id AS id FROM cost_windows`)) as Array<{
      id: string;
    }>;
    expect(schedules).toEqual([{ id: newId }]);
    expect(newId).not.toBe(oldId);
    const readyz = (await (await fetch(`${stale.baseUrl}/readyz`)).json()) as {
      details: Record<string, { status: string; message?: string }>;
    };
    expect(readyz.details.prices).toMatchObject({ status: 'degraded' });
    expect(readyz.details.prices!.message).toContain(newId);
    const plannerReady = (await (await fetch(`${planner.baseUrl}/readyz`)).json()) as {
      details: Record<string, { status: string }>;
    };
    expect(plannerReady.details.prices).toMatchObject({ status: 'up' });
  });
});
