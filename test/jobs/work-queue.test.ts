import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { testDataSource, truncateTables } from '../support/database';
import { LeaseLostError, WorkQueueRepository, type NewWorkItem } from '../../src/jobs/work-queue.repository';
import { WorkRunner, type WorkHandler } from '../../src/jobs/work-runner';
import { SourceBusyError } from '../../src/sources';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);

function items(n: number, job = 'count'): NewWorkItem[] {
  return Array.from({ length: n }, (_, i) => ({
    job,
    itemKey: `svc-${i % 5}@${new Date(T0 + i * HOUR).toISOString()}`,
    windowStart: new Date(T0 + i * HOUR),
    windowEnd: new Date(T0 + (i + 1) * HOUR),
    service: `svc-${i % 5}`,
  }));
}

/** Writes one row per processed item into a scratch table, in the completing transaction. */
function recorder(worker: string, delayMs = 0): WorkHandler {
  return {
    job: 'count',
    async handle(item, commit) {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      await commit(async (tx) => {
        await tx.query('INSERT INTO wq_results (item_key, worker) VALUES ($1, $2)', [item.itemKey, worker]);
      });
    },
  };
}

describe('work queue', () => {
  let db: DataSource;
  let queue: WorkQueueRepository;

  beforeAll(async () => {
    db = await testDataSource();
    await db.query('CREATE TABLE IF NOT EXISTS wq_results (item_key text NOT NULL, worker text NOT NULL)');
    queue = new WorkQueueRepository(db);
  });
  beforeEach(async () => truncateTables(db, ['work_items', 'wq_results']));
  afterAll(async () => db.destroy());

  it('enqueues each key once; "again" re-queues only finished items', async () => {
    expect(await queue.enqueue(items(10))).toBe(10);
    expect(await queue.enqueue(items(10))).toBe(0);
    expect(await queue.enqueue(items(10), 'again')).toBe(0); // all pending: nothing to re-queue
    const runner = new WorkRunner(db, queue, { owner: 'a', leaseMs: 5_000, maxAttempts: 3, concurrency: 1 }).register(
      recorder('a'),
    );
    await runner.drain(['count']);
    expect(await queue.enqueue(items(10), 'again')).toBe(10);
  });

  it('two runners draining one queue process every item exactly once', async () => {
    await queue.enqueue(items(60));
    const a = new WorkRunner(db, queue, { owner: 'a', leaseMs: 5_000, maxAttempts: 3, concurrency: 2 }).register(
      recorder('a', 2),
    );
    const b = new WorkRunner(db, queue, { owner: 'b', leaseMs: 5_000, maxAttempts: 3, concurrency: 2 }).register(
      recorder('b', 2),
    );
    const [ra, rb] = await Promise.all([a.drain(['count']), b.drain(['count'])]);
    expect(ra.done + rb.done).toBe(60);
    const rows: { item_key: string; n: string }[] = await db.query(
      'SELECT item_key, count(*) AS n FROM wq_results GROUP BY item_key',
    );
    expect(rows).toHaveLength(60);
    expect(rows.every((r) => r.n === '1')).toBe(true);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM work_items WHERE status <> 'done'`);
    expect(n).toBe(0);
  });

  it('takes over an item whose worker died, and the dead worker can no longer commit', async () => {
    await queue.enqueue(items(1));
    const [stale] = await queue.claim(['count'], 'dead', 100);
    expect(stale).toBeDefined();
    expect(await queue.claim(['count'], 'other', 100)).toHaveLength(0); // leased
    await new Promise((r) => setTimeout(r, 150));
    const done = await new WorkRunner(db, queue, { owner: 'alive', leaseMs: 5_000, maxAttempts: 3, concurrency: 1 })
      .register(recorder('alive'))
      .drain(['count']);
    expect(done.done).toBe(1);
    await expect(db.transaction((tx) => queue.completeIn(tx, stale!))).rejects.toBeInstanceOf(LeaseLostError);
    expect(await db.query('SELECT worker FROM wq_results')).toEqual([{ worker: 'alive' }]);
  });

  it('a failing item leaves no rows and is retried until maxAttempts, then kept as failed with its error', async () => {
    await queue.enqueue(items(1));
    let calls = 0;
    const flaky: WorkHandler = {
      job: 'count',
      async handle(item, commit) {
        calls += 1;
        await commit(async (tx) => {
          await tx.query('INSERT INTO wq_results (item_key, worker) VALUES ($1, $2)', [item.itemKey, 'x']);
          throw new Error(`boom ${calls}`); // after a write: the transaction must roll it back
        });
      },
    };
    const result = await new WorkRunner(db, queue, { owner: 'x', leaseMs: 5_000, maxAttempts: 2, concurrency: 1 })
      .register(flaky)
      .drain(['count']);
    expect(result).toEqual({ done: 0, failed: 2, lost: 0, busy: 0 });
    expect(await db.query('SELECT * FROM wq_results')).toEqual([]);
    const [row] = await db.query('SELECT status, attempts, last_error FROM work_items');
    expect(row).toEqual({ status: 'failed', attempts: 2, last_error: 'boom 2' });
    // The next scheduled plan of the same window retries a failed item (a done one it leaves alone).
    expect(await queue.enqueue(items(1))).toBe(1);
    expect(await db.query('SELECT status, attempts, last_error FROM work_items')).toEqual([
      { status: 'pending', attempts: 0, last_error: null },
    ]);
  });

  it('a busy item is tried once, kept as busy with its reason, and re-queued by the next scheduled plan', async () => {
    await queue.enqueue(items(1));
    let calls = 0;
    const busy: WorkHandler = {
      job: 'count',
      async handle() {
        calls += 1;
        throw new SourceBusyError(
          'go-fleet: GET http://127.0.0.1:1/debug/pprof/profile is busy: HTTP 500',
          'http://127.0.0.1:1',
        );
      },
    };
    const result = await new WorkRunner(db, queue, { owner: 'x', leaseMs: 5_000, maxAttempts: 3, concurrency: 1 })
      .register(busy)
      .drain(['count']);
    expect(result).toEqual({ done: 0, failed: 0, lost: 0, busy: 1 });
    expect(calls).toBe(1);
    expect(await db.query('SELECT status, attempts, last_error FROM work_items')).toEqual([
      {
        status: 'busy',
        attempts: 1,
        last_error: 'go-fleet: GET http://127.0.0.1:1/debug/pprof/profile is busy: HTTP 500',
      },
    ]);
    expect(
      await queue.failures(
        'count',
        items(1).map((i) => i.itemKey),
      ),
    ).toEqual([]);
    expect(await queue.enqueue(items(1))).toBe(1);
    expect(await db.query('SELECT status, attempts FROM work_items')).toEqual([{ status: 'pending', attempts: 0 }]);
  });

  it('a stale claim cannot fail an item that was completed after its lease expired', async () => {
    await queue.enqueue(items(1));
    // The same token twice: the guard on status must hold even where lease tokens collide.
    const [first] = await queue.claim(['count'], 'w', 50);
    await new Promise((r) => setTimeout(r, 80));
    const [second] = await queue.claim(['count'], 'w', 5_000);
    expect(second?.itemKey).toBe(first?.itemKey);
    await db.transaction((tx) => queue.completeIn(tx, second!));
    await queue.fail(first!, 'late failure of the stale claim', 1);
    expect(await db.query('SELECT status, last_error FROM work_items')).toEqual([{ status: 'done', last_error: null }]);
  });
});
