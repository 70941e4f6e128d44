import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { DemoLoader } from '../../src/demo/demo.loader';
import { JobsService } from '../../src/jobs/jobs.service';
import { WorkQueueRepository } from '../../src/jobs/work-queue.repository';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';

describe('attribute job', () => {
  let app: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    // Six lanes: the windows of one day are attributed at the same time.
    app = await startTestApp({ settings: { schedules: { enabled: false, demo: false, worker: { concurrency: 6 } } } });
    await app.app.get(DemoLoader).loadIfEmpty(new Date(Date.UTC(2026, 10, 22, 9, 17)), 6);
  });
  afterAll(async () => app?.close());

  it('attributes dirty windows, and an item queued for a window another replica already attributed does nothing', async () => {
    const jobs = app.app.get(JobsService);
    expect(await jobs.run('attribute')).toMatchObject({ status: 'succeeded', counts: { windows: 6, done: 6 } });
    expect(await db.query('SELECT * FROM dirty_windows')).toEqual([]);
    const [{ start }] = await db.query(`SELECT min(window_start) AS start FROM cost_windows`);

    // A replica that listed the dirty windows before they were cleared queues them again. Remove one window's
    // header: a re-attribution would write it back, a skip leaves it missing.
    await db.query(`DELETE FROM cost_windows WHERE window_start = $1`, [start]);
    const late = new WorkQueueRepository(db);
    const window = { windowStart: start as Date, windowEnd: new Date((start as Date).getTime() + 3_600_000) };
    expect(
      await late.enqueue(
        [{ job: 'attribute', itemKey: (start as Date).toISOString(), ...window, payload: { onlyIfDirty: true } }],
        'again',
      ),
    ).toBe(1);
    await jobs.run('attribute');
    expect(await db.query(`SELECT window_start FROM cost_windows WHERE window_start = $1`, [start])).toEqual([]);

    // An explicit range (after a price or catalog change) re-attributes whether dirty or not.
    expect(await jobs.run('attribute', { from: window.windowStart, to: window.windowEnd })).toMatchObject({
      status: 'succeeded',
      counts: { windows: 1, done: 1 },
    });
    expect(await db.query(`SELECT count(*)::int AS n FROM cost_windows WHERE window_start = $1`, [start])).toEqual([
      { n: 1 },
    ]);
  });

  it('windows of one day attributed at once by several lanes all succeed, with the same books each time', async () => {
    const jobs = app.app.get(JobsService);
    const [{ from, to }] = await db.query(
      `SELECT min(window_start) AS from, max(window_start) + interval '1 hour' AS to FROM profiles`,
    );
    const books = async (): Promise<unknown> =>
      db.query(
        `SELECT day, team, own_microdollars::text, rolled_up_microdollars::text FROM cost_team_days ORDER BY 1, 2`,
      );
    let first: unknown = null;
    for (let round = 0; round < 3; round++) {
      const summary = await jobs.run('attribute', { from, to, force: true });
      expect(summary.errors).toEqual([]);
      expect(summary.counts).toMatchObject({ windows: 6, done: 6, failed: 0 });
      first ??= await books();
      expect(await books()).toEqual(first);
    }
  });
});
