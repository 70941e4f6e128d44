import type { DataSource, EntityManager } from 'typeorm';
import { LeaseLostError, type WorkItem, type WorkQueueRepository } from './work-queue.repository';

/** Writes an item's results; runs in the transaction that marks the item done. */
export type CommitWrites = (write: (tx: EntityManager) => Promise<void>) => Promise<void>;

/** Does the work of one kind of item (`job`). */
export interface WorkHandler {
  readonly job: string;
  /**
   * Does the item's work. Everything it stores goes through `commit`, exactly once, so that the results
   * and the item's completion land in one transaction: a crash before it leaves nothing behind, and a
   * worker that lost its lease cannot write.
   */
  handle(item: WorkItem, commit: CommitWrites, signal: AbortSignal): Promise<void>;
}

export interface WorkRunnerOptions {
  /** Identifies this worker in leases, e.g. `host:pid:random`; each claim adds its own `#n`. */
  readonly owner: string;
  /** A lease not renewed for this long is taken over by another worker. */
  readonly leaseMs: number;
  readonly maxAttempts: number;
  /** Items processed at once by this process. */
  readonly concurrency: number;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

export interface DrainResult {
  readonly done: number;
  readonly failed: number;
  readonly lost: number;
  readonly busy: number;
}

/**
 * An error that says the outside system is busy (e.g. `SourceBusyError`): told by its `busy` flag so that jobs need
 * not know the sources' classes.
 */
export function isBusyError(err: unknown): boolean {
  return err instanceof Error && (err as Error & { busy?: unknown }).busy === true;
}

/**
 * Claims and processes items until the queue has nothing runnable for the given jobs. Several
 * processes may drain the same queue at once; each item is processed by one of them.
 */
export class WorkRunner {
  private readonly handlers = new Map<string, WorkHandler>();
  private claims = 0;

  constructor(
    private readonly db: DataSource,
    private readonly queue: WorkQueueRepository,
    private readonly options: WorkRunnerOptions,
  ) {}

  register(handler: WorkHandler): this {
    this.handlers.set(handler.job, handler);
    return this;
  }

  /** Processes runnable items of `jobs` until none is left or `signal` aborts. */
  async drain(jobs: readonly string[], signal?: AbortSignal): Promise<DrainResult> {
    const totals = { done: 0, failed: 0, lost: 0, busy: 0 };
    const lane = async (): Promise<void> => {
      while (!signal?.aborted) {
        // A lease token per claim, not per process: two lanes of one process must not be able to
        // complete or fail each other's claim of an item whose lease expired in between.
        const [item] = await this.queue.claim(jobs, `${this.options.owner}#${++this.claims}`, this.options.leaseMs, 1);
        if (!item) return;
        totals[await this.process(item, signal)] += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency) }, lane));
    return totals;
  }

  private async process(item: WorkItem, outer?: AbortSignal): Promise<'done' | 'failed' | 'lost' | 'busy'> {
    const handler = this.handlers.get(item.job);
    const controller = new AbortController();
    const onOuterAbort = (): void => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    const heartbeat = this.keepLease(item, controller);
    let committed = false;
    const commit: CommitWrites = async (write) => {
      if (committed) throw new Error(`work item ${item.itemKey} committed twice`);
      committed = true;
      await this.db.transaction(async (tx) => {
        await write(tx);
        await this.queue.completeIn(tx, item);
      });
    };
    try {
      if (!handler) throw new Error(`no handler for job ${item.job}`);
      await handler.handle(item, commit, controller.signal);
      if (!committed) await commit(async () => undefined);
      this.options.log?.('work item done', { job: item.job, item: item.itemKey, attempt: item.attempts });
      return 'done';
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.options.log?.('work item lease lost', { job: item.job, item: item.itemKey });
        return 'lost';
      }
      const message = err instanceof Error ? err.message : String(err);
      if (isBusyError(err) && !controller.signal.aborted) {
        await this.queue.markBusy(item, message);
        this.options.log?.('work item busy', {
          job: item.job,
          item: item.itemKey,
          attempt: item.attempts,
          error: message,
        });
        return 'busy';
      }
      await this.queue.fail(item, message, this.options.maxAttempts);
      this.options.log?.('work item failed', {
        job: item.job,
        item: item.itemKey,
        attempt: item.attempts,
        error: message,
      });
      return 'failed';
    } finally {
      clearInterval(heartbeat);
      outer?.removeEventListener('abort', onOuterAbort);
    }
  }

  /** Renews the lease at a third of its length; aborts the handler if the item was taken over. */
  private keepLease(item: WorkItem, controller: AbortController): NodeJS.Timeout {
    const timer = setInterval(
      () => {
        this.queue
          .heartbeat(item, this.options.leaseMs)
          .then((ours) => {
            if (!ours) controller.abort(new LeaseLostError(item));
          })
          .catch(() => undefined); // a missed beat is retried at the next tick; the lease has slack for it
      },
      Math.max(50, Math.floor(this.options.leaseMs / 3)),
    );
    timer.unref();
    return timer;
  }
}
