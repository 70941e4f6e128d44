import { Inject, Injectable, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { lastCompleteWindow, windowKey, windowsCovering, type Window } from '../domain/pull/windows';
import { ProfileRepository } from '../profiles/profile.repository';
import type { ProfileSource } from '../sources';
import { JobRunRepository } from './job-run.repository';
import { PlannedItems, planPullItems } from './pull.planner';
import { RetentionRepository } from './retention.repository';
import { WorkQueueRepository, type NewWorkItem } from './work-queue.repository';
import { WorkRunner, type WorkHandler } from './work-runner';

/** Injection tokens of what the jobs need from other modules. */
export const PULL_SOURCES = Symbol('flamebill.pullSources');
export const PULL_HANDLER = Symbol('flamebill.pullHandler');
export const ATTRIBUTE_HANDLER = Symbol('flamebill.attributeHandler');

export const JOB_NAMES = ['pull', 'attribute', 'retention'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export interface RunOptions {
  /** The range to (re)process; without it, a scheduled run's default (the last complete window, the dirty windows). */
  readonly from?: Date;
  readonly to?: Date;
  /** Re-do items that are already done (a backfill after a fix); without it, done windows are left alone. */
  readonly force?: boolean;
  /** Called as items finish: done + failed of total. */
  readonly progress?: (finished: number, total: number, phase: string) => void;
  readonly signal?: AbortSignal;
}

/** What a run did, as stored in `job_runs.counts` (plus its status). */
export interface RunSummary {
  readonly job: JobName;
  readonly status: 'succeeded' | 'failed' | 'skipped';
  readonly counts: Record<string, number>;
  readonly errors: readonly string[];
}

/**
 * Runs the scheduled jobs: plans their work items, works through them with every other replica that
 * is draining the same queue, and records the run in `job_runs`. Each job is a few named steps; the
 * work itself is in the handlers (pull: fetch and store one service-window; attribute: one window).
 */
@Injectable()
export class JobsService implements OnModuleDestroy {
  private readonly logger = new Logger('Jobs');
  private readonly queue: WorkQueueRepository;
  private readonly runner: WorkRunner;
  private readonly stopping = new AbortController();
  private readonly windowSeconds: number;

  constructor(
    db: DataSource,
    @InjectSettings() private readonly settings: Settings,
    private readonly jobRuns: JobRunRepository,
    private readonly profiles: ProfileRepository,
    private readonly retention: RetentionRepository,
    @Inject(PULL_SOURCES) private readonly sources: readonly ProfileSource[],
    @Inject(PULL_HANDLER) pullHandler: WorkHandler,
    @Optional() @Inject(ATTRIBUTE_HANDLER) private readonly attributeHandler: WorkHandler | null,
  ) {
    const worker = settings.schedules.worker;
    this.windowSeconds = settings.ingest.windowSeconds;
    this.queue = new WorkQueueRepository(db);
    this.runner = new WorkRunner(db, {
      owner: `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
      leaseMs: worker.leaseSeconds * 1000,
      maxAttempts: worker.maxAttempts,
      concurrency: worker.concurrency,
      log: (event, fields) => this.logger.debug({ ...fields }, event),
    });
    this.runner.register(pullHandler);
    if (attributeHandler) this.runner.register(attributeHandler);
  }

  onModuleDestroy(): void {
    this.stopping.abort(new Error('flamebill is stopping'));
  }

  /** Runs one job once, recorded in `job_runs`; never throws for a failed item (the summary says so). */
  async run(job: JobName, options: RunOptions = {}): Promise<RunSummary> {
    const signal = options.signal ? AbortSignal.any([options.signal, this.stopping.signal]) : this.stopping.signal;
    const range = options.from && options.to ? { from: options.from, to: options.to } : undefined;
    const run = await this.jobRuns.start({ job, window: range });
    try {
      const summary = await this.dispatch(job, { ...options, signal });
      if (summary.status === 'failed') await this.jobRuns.fail(run.id, summary.errors.slice(0, 20).join('\n'), summary.counts);
      else await this.jobRuns.finish(run.id, summary.status, summary.counts);
      return summary;
    } catch (error) {
      await this.jobRuns.fail(run.id, error).catch(() => undefined);
      throw error;
    }
  }

  private dispatch(job: JobName, options: RunOptions): Promise<RunSummary> {
    switch (job) {
      case 'pull':
        return this.pull(options);
      case 'attribute':
        return this.attribute(options);
      case 'retention':
        return this.applyRetention();
    }
  }

  /** Pull: list every source's services per window, fetch and store each, then attribute what changed. */
  private async pull(options: RunOptions): Promise<RunSummary> {
    if (this.sources.length === 0) return { job: 'pull', status: 'skipped', counts: { sources: 0 }, errors: [] };
    const windows = this.windowsOf(options) ?? [lastCompleteWindow(new Date(), this.windowSeconds)];
    const planned: PlannedItems = await planPullItems(this.sources, windows, options.signal!);
    for (const error of planned.errors) this.logger.warn(error);
    const settled = await this.work('pull', planned.items, options);
    // Attributes the windows this pull marked dirty (and any others that are).
    const attributed = await this.attribute({ signal: options.signal, progress: options.progress });
    const errors = [...planned.errors, ...settled.errors, ...attributed.errors];
    return {
      job: 'pull',
      status: errors.length > 0 ? 'failed' : 'succeeded',
      counts: { windows: windows.length, sources: this.sources.length, items: planned.items.length, ...settled.counts, attributedWindows: attributed.counts.windows ?? 0 },
      errors,
    };
  }

  /** Attribute: the given range (after a price or catalog change), or every window marked dirty. */
  private async attribute(options: RunOptions): Promise<RunSummary> {
    if (!this.attributeHandler) return { job: 'attribute', status: 'skipped', counts: {}, errors: [] };
    const range = this.windowsOf(options);
    const windows = range ?? (await this.dirtyWindows());
    // A dirty window is skipped by the handler if another replica attributed it in the meantime.
    const payload = { onlyIfDirty: range === null };
    const items = windows.map((w): NewWorkItem => ({ job: 'attribute', itemKey: windowKey(w), windowStart: w.start, windowEnd: w.end, payload }));
    // Always 'again': a dirty window must be recomputed even if it was attributed before.
    const settled = await this.work('attribute', items, { ...options, force: true });
    return { job: 'attribute', status: settled.errors.length > 0 ? 'failed' : 'succeeded', counts: { windows: windows.length, ...settled.counts }, errors: settled.errors };
  }

  private async applyRetention(): Promise<RunSummary> {
    const counts = await this.retention.apply(this.settings.retention, new Date());
    return { job: 'retention', status: 'succeeded', counts, errors: [] };
  }

  /**
   * Enqueues the items, then works through them (with any other replica) until none of them is pending
   * or running. Items another worker holds are waited for: if that worker dies, its lease runs out and
   * this process takes the item over.
   */
  private async work(job: string, items: readonly NewWorkItem[], options: RunOptions): Promise<{ counts: Record<string, number>; errors: string[] }> {
    await this.queue.enqueue(items, options.force ? 'again' : 'once');
    const keys = items.map((i) => i.itemKey);
    const pollMs = Math.min(1_000, (this.settings.schedules.worker.leaseSeconds * 1000) / 3);
    let status: Record<string, number> = {};
    for (;;) {
      await this.runner.drain([job], options.signal);
      status = await this.queue.statusOf(job, keys);
      options.progress?.((status.done ?? 0) + (status.failed ?? 0), keys.length, job);
      if ((status.pending ?? 0) + (status.running ?? 0) === 0 || options.signal?.aborted) break;
      await sleep(pollMs, options.signal);
    }
    const failures = await this.queue.failures(job, keys);
    return {
      counts: { done: status.done ?? 0, failed: status.failed ?? 0 },
      errors: failures.map((f) => `${job} ${f.itemKey}: ${f.error}`),
    };
  }

  private windowsOf(options: RunOptions): Window[] | null {
    if (!options.from || !options.to) return null;
    return windowsCovering(options.from, options.to, this.windowSeconds);
  }

  private async dirtyWindows(): Promise<Window[]> {
    const size = this.windowSeconds * 1000;
    const dirty = await this.profiles.listDirtyWindows(10_000);
    return dirty.map((d) => ({ start: d.windowStart, end: new Date(d.windowStart.getTime() + size) }));
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
