import { windowKey } from '../domain/pull/windows';
import type { TimeWindow } from '../domain/time-window';
import type { NewWorkItem } from './work-queue.repository';
import type { WorkHandler } from './work-runner';

/** How a run was asked for: by the scheduler (no range), or by `flamebill run` with options. */
export interface RunOptions {
  /** The range to (re)process; without it, the job's scheduled default. */
  readonly from?: Date;
  readonly to?: Date;
  /** Re-do items that are already done (a backfill after a fix); without it, done items are left alone. */
  readonly force?: boolean;
  /** Log and store what would be sent or written outside, and send nothing (jobs with outside effects). */
  readonly dryRun?: boolean;
  /** The job's own options (`JobMeta.options`), by camel-cased name, as commander parsed them. */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** Called as items finish: done + failed of total, and which items. */
  readonly progress?: (finished: number, total: number, phase: string) => void;
  readonly signal?: AbortSignal;
}

/** What a run did, as stored in `job_runs.counts` (plus its status). */
export interface RunSummary {
  readonly job: string;
  readonly status: 'succeeded' | 'failed' | 'skipped';
  readonly counts: Record<string, number>;
  readonly errors: readonly string[];
}

/** What the runner of a job returns; the job's name is added by the registry. */
export type JobOutcome = Omit<RunSummary, 'job'>;

/** What a job's items came to once none of them is pending or running. */
export interface WorkOutcome {
  /** `busy`: items the outside system was too busy for, left to the next schedule (not errors). */
  readonly counts: { readonly done: number; readonly failed: number; readonly busy?: number };
  readonly errors: string[];
}

/** What a runner may use while it runs. */
export interface JobContext {
  readonly options: RunOptions;
  /** Aborts when the caller gives up or the process stops. */
  readonly signal: AbortSignal;
  /**
   * Enqueues the items (idempotent by key; `again` re-queues done ones) and works through them with every other
   * replica draining the queue, until none is pending or running.
   */
  work(items: readonly NewWorkItem[], mode?: 'once' | 'again'): Promise<WorkOutcome>;
  /** Runs another registered job as part of this run (e.g. pull, then attribute what it changed). */
  run(job: string, options?: Omit<RunOptions, 'signal' | 'progress'>): Promise<RunSummary>;
}

/** The provider behind a `@Job`: plans a run and, through `handlers`, does the work of its items. */
export interface JobRunner {
  /** Handlers of the work items this job enqueues (their `job` is the item kind, usually the job's name). */
  readonly handlers?: readonly WorkHandler[];
  run(context: JobContext): Promise<JobOutcome>;
}

/**
 * One work item of `job` per window (keyed by its start), queued again whether or not it was done before (a window
 * keeps changing after its item is done), worked through with every other replica; the outcome counts the windows.
 */
export async function workWindows(
  context: JobContext,
  job: string,
  windows: readonly TimeWindow[],
  payload?: NewWorkItem['payload'],
): Promise<JobOutcome> {
  const items = windows.map((w): NewWorkItem => ({
    job,
    itemKey: windowKey(w),
    windowStart: w.start,
    windowEnd: w.end,
    ...(payload === undefined ? {} : { payload }),
  }));
  const settled = await context.work(items, 'again');
  return {
    status: settled.errors.length > 0 ? 'failed' : 'succeeded',
    counts: { windows: windows.length, ...settled.counts },
    errors: settled.errors,
  };
}
