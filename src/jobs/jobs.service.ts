import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { JobRegistry } from './job-registry';
import type { JobContext, RunOptions, RunSummary, WorkOutcome } from './job-runner';
import { JobRunRepository } from './job-run.repository';
import { WorkQueueRepository, type NewWorkItem } from './work-queue.repository';
import { WorkRunner } from './work-runner';

/**
 * Runs the registered jobs: records each run in `job_runs` (with a heartbeat, so a run whose process died is
 * marked abandoned), hands the runner a context to enqueue and work through items with every other replica
 * draining the same queue, and registers the item handlers of every job with this process's work runner.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Jobs');
  private readonly runner: WorkRunner;
  private readonly stopping = new AbortController();
  private readonly leaseMs: number;

  constructor(
    db: DataSource,
    @InjectSettings() settings: Settings,
    private readonly registry: JobRegistry,
    private readonly jobRuns: JobRunRepository,
    private readonly queue: WorkQueueRepository,
  ) {
    const worker = settings.schedules.worker;
    this.leaseMs = worker.leaseSeconds * 1000;
    this.runner = new WorkRunner(db, queue, {
      owner: `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
      leaseMs: this.leaseMs,
      maxAttempts: worker.maxAttempts,
      concurrency: worker.concurrency,
      log: (event, fields) => this.logger.debug({ ...fields }, event),
    });
  }

  onApplicationBootstrap(): void {
    for (const { runner } of this.registry.list())
      for (const handler of runner.handlers ?? []) this.runner.register(handler);
  }

  onModuleDestroy(): void {
    this.stopping.abort(new Error('flamebill is stopping'));
  }

  /** Runs one job once, recorded in `job_runs`; never throws for a failed item (the summary says so). */
  async run(job: string, options: RunOptions = {}): Promise<RunSummary> {
    const { runner } = this.registry.get(job);
    const kinds = [...new Set((runner.handlers ?? []).map((h) => h.job))];
    const signal = options.signal ? AbortSignal.any([options.signal, this.stopping.signal]) : this.stopping.signal;
    await this.abandonStaleRuns();
    const range = options.from && options.to ? { from: options.from, to: options.to } : undefined;
    const run = await this.jobRuns.start({ job, window: range });
    const beat = setInterval(
      () => void this.jobRuns.heartbeat(run.id).catch(() => undefined),
      Math.max(50, this.leaseMs / 3),
    );
    beat.unref();
    try {
      const outcome = await runner.run(this.context(job, kinds, { ...options, signal }));
      const summary: RunSummary = { job, ...outcome };
      if (summary.status === 'failed')
        await this.jobRuns.fail(run.id, summary.errors.slice(0, 20).join('\n'), summary.counts);
      else await this.jobRuns.finish(run.id, summary.status, summary.counts);
      return summary;
    } catch (error) {
      await this.jobRuns
        .fail(run.id, error)
        .catch((failure: unknown) =>
          this.logger.warn(`${job}: could not record the failed run ${run.id}: ${String(failure)}`),
        );
      throw error;
    } finally {
      clearInterval(beat);
    }
  }

  /** Marks `running` rows whose heartbeat stopped long ago (a killed process, a lost connection) as abandoned. */
  async abandonStaleRuns(): Promise<number> {
    const abandoned = await this.jobRuns.abandonStale(this.leaseMs * 3);
    if (abandoned > 0) this.logger.warn(`${abandoned} job run(s) marked abandoned: their process stopped reporting`);
    return abandoned;
  }

  private context(job: string, kinds: readonly string[], options: RunOptions & { signal: AbortSignal }): JobContext {
    return {
      options,
      signal: options.signal,
      work: (items, mode) => this.work(job, kinds, items, mode ?? (options.force ? 'again' : 'once'), options),
      run: (other, nested) => this.run(other, { ...nested, signal: options.signal, progress: options.progress }),
    };
  }

  /**
   * Enqueues the items, then works through them (with any other replica) until none of them is pending
   * or running. Items another worker holds are waited for: if that worker dies, its lease runs out and
   * this process takes the item over. Runnable items of the job's kinds queued by others are drained too.
   */
  private async work(
    job: string,
    handled: readonly string[],
    items: readonly NewWorkItem[],
    mode: 'once' | 'again',
    options: RunOptions & { signal: AbortSignal },
  ): Promise<WorkOutcome> {
    await this.queue.enqueue(items, mode);
    const kinds = [...new Set([...handled, ...items.map((i) => i.job)])];
    const pollMs = Math.min(1_000, this.leaseMs / 3);
    const done = { done: 0, failed: 0, busy: 0 };
    const errors: string[] = [];
    for (const kind of kinds) {
      const keys = items.filter((i) => i.job === kind).map((i) => i.itemKey);
      let status: Record<string, number> = {};
      for (;;) {
        await this.runner.drain([kind], options.signal);
        status = await this.queue.statusOf(kind, keys);
        options.progress?.((status.done ?? 0) + (status.failed ?? 0) + (status.busy ?? 0), keys.length, kind);
        if ((status.pending ?? 0) + (status.running ?? 0) === 0 || options.signal.aborted) break;
        await sleep(pollMs, options.signal);
      }
      done.done += status.done ?? 0;
      done.failed += status.failed ?? 0;
      done.busy += status.busy ?? 0;
      errors.push(...(await this.queue.failures(kind, keys)).map((f) => `${job} ${f.itemKey}: ${f.error}`));
    }
    if (items.length === 0) options.progress?.(0, 0, job);
    // `busy` only when some item was: job summaries keep their shape otherwise.
    return { counts: done.busy > 0 ? done : { done: done.done, failed: done.failed }, errors };
  }
}

/** Resolves after `ms`, or at once when `signal` aborts; leaves no listener behind either way. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
