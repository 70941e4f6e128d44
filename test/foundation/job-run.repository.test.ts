import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { JobRunRepository } from '../../src/jobs/job-run.repository';
import { inTransaction } from '../../src/database/transactions';
import { testDataSource, truncateTables } from '../support/database';

let db: DataSource;
let runs: JobRunRepository;

beforeAll(async () => {
  db = await testDataSource();
  runs = new JobRunRepository(db);
});
beforeEach(() => truncateTables(db));

const window = { from: new Date('2026-11-01T10:00:00Z'), to: new Date('2026-11-01T11:00:00Z') };

describe('JobRunRepository', () => {
  it('starts a run as running on this host and finishes it with counts', async () => {
    const started = await runs.start({ job: 'pull', window, host: 'replica-1' });
    expect(started).toMatchObject({
      job: 'pull',
      status: 'running',
      finishedAt: null,
      host: 'replica-1',
      counts: {},
      error: null,
    });
    expect(started.windowFrom?.toISOString()).toBe('2026-11-01T10:00:00.000Z');
    const finished = await runs.finish(started.id, 'succeeded', { profiles: 12, bytes: 4096 });
    expect(finished).toMatchObject({ id: started.id, status: 'succeeded', counts: { profiles: 12, bytes: 4096 } });
    expect(finished.finishedAt!.getTime()).toBeGreaterThanOrEqual(started.startedAt.getTime());
  });

  it('keeps the error message of a failed run', async () => {
    const run = await runs.start({ job: 'report' });
    const failed = await runs.fail(run.id, new Error('SMTP refused'), { sent: 1 });
    expect(failed).toMatchObject({ status: 'failed', error: 'SMTP refused', counts: { sent: 1 }, windowFrom: null });
  });

  it('marks a run abandoned once its heartbeat is long gone (its process was killed), and only that one', async () => {
    const killed = await runs.start({ job: 'pull' });
    const alive = await runs.start({ job: 'attribute' });
    await db.query(`UPDATE job_runs SET started_at = now() - interval '10 minutes' WHERE id IN ($1, $2)`, [
      killed.id,
      alive.id,
    ]);
    await runs.heartbeat(alive.id);
    expect(await runs.abandonStale(5 * 60_000)).toBe(1);
    const [gone] = await runs.listRecent({ job: 'pull' });
    expect(gone).toMatchObject({ id: killed.id, status: 'abandoned' });
    expect(gone!.error).toMatch(/^abandoned: no heartbeat since \d{4}-\d{2}-\d{2}T/);
    expect((await runs.listRecent({ job: 'attribute' }))[0]).toMatchObject({ id: alive.id, status: 'running' });
  });

  it('refuses to finish a run twice', async () => {
    const run = await runs.start({ job: 'pull' });
    await runs.finish(run.id, 'skipped');
    await expect(runs.finish(run.id, 'succeeded')).rejects.toThrow(`job run ${run.id} is not running`);
  });

  it('lists recent runs newest first, optionally of one job, and finds the last success', async () => {
    const a = await runs.start({ job: 'pull' });
    await runs.finish(a.id, 'succeeded');
    const b = await runs.start({ job: 'report' });
    const c = await runs.start({ job: 'pull' });
    await runs.fail(c.id, 'timeout');
    expect((await runs.listRecent()).map((run) => run.id)).toEqual([c.id, b.id, a.id]);
    expect((await runs.listRecent({ job: 'pull', limit: 1 })).map((run) => run.id)).toEqual([c.id]);
    expect((await runs.lastSucceeded('pull'))?.id).toBe(a.id);
    expect(await runs.lastSucceeded('report')).toBeNull();
  });

  it('joins a caller transaction and rolls back with it', async () => {
    await expect(
      inTransaction(db, async (manager) => {
        await runs.start({ job: 'pull' }, manager);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await runs.listRecent()).toEqual([]);
  });

  it('has the database reject an unknown status and an inverted window', async () => {
    await expect(db.query(`INSERT INTO job_runs (job, status, host) VALUES ('x', 'done', 'h')`)).rejects.toThrow(
      /check constraint/,
    );
    await expect(runs.start({ job: 'pull', window: { from: window.to, to: window.from } })).rejects.toThrow(
      /check constraint/,
    );
  });
});
