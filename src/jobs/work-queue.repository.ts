import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { queryRows } from '../database/query-rows';

/** A unit of work: one (job, key) pair, e.g. `pull` of one service for one window. */
export interface WorkItem {
  readonly id: string;
  readonly job: string;
  readonly itemKey: string;
  readonly windowStart: Date;
  readonly windowEnd: Date;
  readonly service: string | null;
  readonly payload: Record<string, unknown>;
  readonly attempts: number;
  readonly leaseOwner: string;
}

export interface NewWorkItem {
  readonly job: string;
  readonly itemKey: string;
  readonly windowStart: Date;
  readonly windowEnd: Date;
  readonly service?: string | null;
  readonly payload?: Record<string, unknown>;
}

export type EnqueueMode =
  /** Scheduled runs: an item that is pending, running or done is left alone; a failed or busy one is retried. */
  | 'once'
  /** Backfills and late data: a done or failed item goes back to pending; a running one is left to finish. */
  | 'again';

interface WorkItemRow {
  id: string;
  job: string;
  item_key: string;
  window_start: Date;
  window_end: Date;
  service: string | null;
  payload: Record<string, unknown> | null;
  attempts: number;
  lease_owner: string;
}

/**
 * The work_items table as a queue any number of replicas share. Claims use `FOR UPDATE SKIP LOCKED`
 * so two workers never get the same item, and a lease so a crashed worker's item is taken over once
 * the lease runs out. Completion is written in the caller's transaction together with the item's own
 * rows and is guarded by the lease owner: a worker whose lease was taken over cannot commit.
 */
@Injectable()
export class WorkQueueRepository {
  constructor(private readonly db: DataSource) {}

  /** Adds items; returns how many were inserted or re-queued. Safe to call from several replicas at once. */
  async enqueue(items: readonly NewWorkItem[], mode: EnqueueMode = 'once'): Promise<number> {
    if (items.length === 0) return 0;
    const requeue = mode === 'once' ? `('failed', 'busy')` : `('done', 'failed', 'busy')`;
    const onConflict = `DO UPDATE SET status = 'pending', attempts = 0, last_error = NULL, updated_at = now(),
             payload = EXCLUDED.payload, window_end = EXCLUDED.window_end
           WHERE work_items.status IN ${requeue}`;
    const rows = await queryRows<unknown>(
      this.db,
      `INSERT INTO work_items (job, item_key, window_start, window_end, service, payload, status, attempts)
       SELECT x.job, x.item_key, x.window_start, x.window_end, x.service, x.payload, 'pending', 0
         FROM jsonb_to_recordset($1::jsonb)
           AS x(job text, item_key text, window_start timestamptz, window_end timestamptz, service text, payload jsonb)
       ON CONFLICT (job, item_key) ${onConflict}
       RETURNING id`,
      [JSON.stringify(items.map(toRecord))],
    );
    return rows.length;
  }

  /**
   * Claims up to `limit` runnable items of the given jobs for `owner`: pending ones, and running ones
   * whose lease expired (their worker died). Oldest windows first.
   */
  async claim(jobs: readonly string[], owner: string, leaseMs: number, limit = 1): Promise<WorkItem[]> {
    const rows = await queryRows<WorkItemRow>(
      this.db,
      `UPDATE work_items w
          SET status = 'running', lease_owner = $2, lease_until = now() + ($3::double precision * interval '1 millisecond'),
              attempts = w.attempts + 1, updated_at = now()
        WHERE w.id IN (
          SELECT id FROM work_items
           WHERE job = ANY($1::text[])
             AND (status = 'pending' OR (status = 'running' AND lease_until < now()))
           ORDER BY window_start, id
           FOR UPDATE SKIP LOCKED
           LIMIT $4)
      RETURNING w.id, w.job, w.item_key, w.window_start, w.window_end, w.service, w.payload, w.attempts, w.lease_owner`,
      [jobs, owner, leaseMs, limit],
    );
    return rows.map(fromRow);
  }

  /** Extends a lease that is still ours; false when another worker has taken the item over. */
  async heartbeat(item: WorkItem, leaseMs: number): Promise<boolean> {
    const rows = await queryRows<unknown>(
      this.db,
      `UPDATE work_items SET lease_until = now() + ($3::double precision * interval '1 millisecond'), updated_at = now()
        WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING id`,
      [item.id, item.leaseOwner, leaseMs],
    );
    return rows.length === 1;
  }

  /**
   * Marks the item done inside `tx`, the transaction that also wrote the item's results. Throws
   * `LeaseLostError` when the lease is no longer ours, so the caller's transaction rolls back and the
   * item's results are written exactly once, by the worker that holds it.
   */
  async completeIn(tx: EntityManager, item: WorkItem): Promise<void> {
    const rows = await queryRows<unknown>(
      tx,
      `UPDATE work_items SET status = 'done', finished_at = now(), updated_at = now(), last_error = NULL
        WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING id`,
      [item.id, item.leaseOwner],
    );
    if (rows.length !== 1) throw new LeaseLostError(item);
  }

  /**
   * Records a failure of a claim that is still ours (a claim whose lease was taken over records
   * nothing). The item goes back to pending until `maxAttempts`, then stays failed with its error for
   * someone to read; a re-run with mode 'again' retries it.
   */
  /**
   * Records that the outside system was busy (see `SourceBusyError`): the item ends `busy` at once, with the reason,
   * not retried by this run; the next scheduled run re-queues it like a failed one.
   */
  async markBusy(item: WorkItem, reason: string): Promise<void> {
    await this.db.query(
      `UPDATE work_items
          SET status = 'busy', last_error = $3, lease_owner = NULL, lease_until = NULL, updated_at = now(), finished_at = now()
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [item.id, item.leaseOwner, reason.slice(0, 4000)],
    );
  }

  async fail(item: WorkItem, error: string, maxAttempts: number): Promise<void> {
    await this.db.query(
      `UPDATE work_items
          SET status = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'pending' END,
              last_error = $4, lease_owner = NULL, lease_until = NULL, updated_at = now(),
              finished_at = CASE WHEN attempts >= $3 THEN now() ELSE NULL END
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [item.id, item.leaseOwner, maxAttempts, error.slice(0, 4000)],
    );
  }

  /** Counts items by status for the given keys; a backfill waits until none is pending or running. */
  async statusOf(job: string, itemKeys: readonly string[]): Promise<Record<string, number>> {
    const rows = await queryRows<{ status: string; n: string }>(
      this.db,
      `SELECT status, count(*)::text AS n FROM work_items WHERE job = $1 AND item_key = ANY($2::text[]) GROUP BY status`,
      [job, itemKeys],
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Deletes items finished before `before` (retention); running and pending items are kept. */
  async deleteDoneBefore(before: Date): Promise<number> {
    const rows = await queryRows<unknown>(
      this.db,
      `DELETE FROM work_items WHERE status = 'done' AND finished_at < $1 RETURNING id`,
      [before],
    );
    return rows.length;
  }

  /** Errors of the failed items among the given keys, for the job run's summary. */
  async failures(job: string, itemKeys: readonly string[]): Promise<{ itemKey: string; error: string }[]> {
    const rows = await queryRows<{ item_key: string; last_error: string | null }>(
      this.db,
      `SELECT item_key, last_error FROM work_items WHERE job = $1 AND item_key = ANY($2::text[]) AND status = 'failed' ORDER BY item_key`,
      [job, itemKeys],
    );
    return rows.map((r) => ({ itemKey: r.item_key, error: r.last_error ?? '' }));
  }
}

/** The worker's lease on an item ran out and another worker took it over. */
export class LeaseLostError extends Error {
  constructor(item: WorkItem) {
    super(`lease lost on work item ${item.job}/${item.itemKey} (owner ${item.leaseOwner})`);
    this.name = 'LeaseLostError';
  }
}

function toRecord(item: NewWorkItem): Record<string, unknown> {
  return {
    job: item.job,
    item_key: item.itemKey,
    window_start: item.windowStart.toISOString(),
    window_end: item.windowEnd.toISOString(),
    service: item.service ?? null,
    payload: item.payload ?? {},
  };
}

function fromRow(row: WorkItemRow): WorkItem {
  return {
    id: String(row.id),
    job: row.job,
    itemKey: row.item_key,
    windowStart: row.window_start,
    windowEnd: row.window_end,
    service: row.service,
    payload: row.payload ?? {},
    attempts: row.attempts,
    leaseOwner: row.lease_owner,
  };
}
