import { foldPush, type IngestPlan, type PushFoldOptions } from '../domain/ingest';
import { ProfileDecodeError, serializeFold } from '../domain/profile';

/** The CPU-heavy part of one push, as sent to a fold worker: everything is plain data (structured-clone safe). */
export interface FoldTask {
  readonly plan: IngestPlan;
  /**
   * The profile bytes (the `profile` part for multipart), gzipped or not. The pool moves a copy to the worker; the
   * caller's buffer stays usable (it becomes `profiles.raw`).
   */
  readonly body: Uint8Array;
  /** JFR pushes: the agent's `labels` part (context id -> labels), gzipped or not. */
  readonly jfrLabels?: Uint8Array | null;
  readonly options: PushFoldOptions;
}

/** A push to store, with its fold already serialized (`serializeFold`), ready for the `profiles.fold` column. */
export interface FoldTaskStore {
  readonly action: 'store';
  readonly service: string;
  /** `<type>:<unit>` of the fold's sample type: the row's `profile_type`. */
  readonly profileType: string;
  readonly serializedFold: Uint8Array;
  readonly sampleCount: number;
  readonly cpuNanoseconds: bigint;
  readonly wallOnly: boolean;
  readonly digest: string;
  /** Label keys over `labels.maxValuesPerKey` in this profile: their less costly values were folded into `__other__`. */
  readonly cappedLabelKeys: readonly string[];
  /** The profile's own start (pprof `time_nanos`), ns since the epoch; 0n when it has none. */
  readonly timeNanos: bigint;
}

/** Accepted (200) but nothing to store: no CPU time in it. */
export interface FoldTaskSkip {
  readonly action: 'skip';
  readonly reason: 'empty' | 'not-cpu' | 'wall-not-counted';
  readonly detail: string;
}

/**
 * The bytes are not a readable profile (a `ProfileDecodeError`: 422 with this message). Carried as data because
 * an error's class does not survive the trip back from a worker thread.
 */
export interface FoldTaskUnreadable {
  readonly action: 'unreadable';
  readonly message: string;
}

export type FoldTaskResult = FoldTaskStore | FoldTaskSkip | FoldTaskUnreadable;

/**
 * gunzip + classify + fold + digest (`foldPush`) and `serializeFold`: all the CPU work of a push, so the thread that
 * serves HTTP only reads bodies, talks to PostgreSQL and answers. Runs in a fold worker, or inline when
 * `ingest.workers` is 0; both give the same result. Any error other than an unreadable profile is thrown (a bug or
 * resource failure: the caller answers 500).
 */
export function runFoldTask(task: FoldTask): FoldTaskResult {
  let outcome;
  try {
    outcome = foldPush(task.plan, task.body, task.options, task.jfrLabels);
  } catch (err: unknown) {
    if (err instanceof ProfileDecodeError) return { action: 'unreadable', message: err.message };
    throw err;
  }
  if (outcome.action === 'skip') return outcome;
  return {
    action: 'store',
    service: outcome.service,
    profileType: outcome.profileType,
    serializedFold: serializeFold(outcome.fold),
    sampleCount: outcome.fold.sampleCount,
    cpuNanoseconds: outcome.cpuNanoseconds,
    wallOnly: outcome.wallOnly,
    digest: outcome.digest,
    cappedLabelKeys: outcome.fold.droppedLabelKeys ?? [],
    timeNanos: outcome.fold.timeNanos,
  };
}
