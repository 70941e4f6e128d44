import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Piscina } from 'piscina';
import { isGzip } from '../domain/profile/bounded-gunzip';
import { runFoldTask, type FoldTask, type FoldTaskResult } from './ingest-fold.task';

export interface IngestFoldPoolOptions {
  /** Worker threads (`ingest.workers`); 0 folds inline on the calling thread, as flamebill did before the pool. */
  readonly workers: number;
  /** Tasks allowed to wait for a worker; past it `fold` throws `FoldQueueFullError` (answered 429). */
  readonly maxQueue: number;
  /**
   * Bodies up to this many bytes that inflate to at most `INLINE_MAX_INFLATED_BYTES` fold on the calling thread:
   * their fold (well under a millisecond) costs less than the hop to a worker and back. 0: every body goes to a worker.
   */
  readonly inlineMaxBytes?: number;
  /** Worker script; default: the compiled `ingest-fold.worker.js`, or its TypeScript loader when run from sources. */
  readonly filename?: string;
}

/** Every fold worker is busy and the queue is full: the push is refused (429) rather than queued without bound. */
export class FoldQueueFullError extends Error {
  constructor(readonly maxQueue: number) {
    super(`more than ${maxQueue} profiles waiting to be folded; retry shortly`);
    this.name = 'FoldQueueFullError';
  }
}

/** Idle workers above one are stopped after this long; the first stays warm. */
const IDLE_TIMEOUT_MS = 60_000;

/**
 * A small body folds inline only if it inflates to at most this much (checked with a bounded gunzip), so a tiny
 * gzip bomb cannot hold the event loop: folding 64 KiB of pprof takes about a millisecond.
 */
export const INLINE_MAX_INFLATED_BYTES = 64 * 1024;

/**
 * A pool of worker threads (piscina) that run `runFoldTask` (gunzip, classify, fold, digest, serializeFold), so the
 * HTTP thread stays free to read bodies, talk to PostgreSQL and answer while profiles are folded on the other cores.
 * With `workers: 0` the same task runs inline, and so do small bodies (`inlineMaxBytes`). Results are identical either
 * way.
 *
 * Threads start on demand, at the first push and then up to `workers` as pushes queue; one stays warm when idle.
 */
export class IngestFoldPool {
  /** Created at the first fold: a process that never receives a push starts no thread. */
  private pool: Piscina | null = null;
  private closed = false;
  private readonly filename: string | null;

  constructor(private readonly options: IngestFoldPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 0)
      throw new Error(`ingest fold workers: expected an integer >= 0, got ${options.workers}`);
    this.filename = options.workers === 0 ? null : (options.filename ?? defaultWorkerFile());
  }

  /** Worker threads at most (0: inline). */
  get workers(): number {
    return this.options.workers;
  }

  /**
   * Folds one push. Rejects with `FoldQueueFullError` when every worker is busy and `maxQueue` tasks already wait;
   * any other rejection is a failure of the worker (the caller answers 500).
   */
  async fold(task: FoldTask): Promise<FoldTaskResult> {
    const inline = this.cheapInline(task.body) && (!task.jfrLabels || this.cheapInline(task.jfrLabels));
    if (this.filename === null || inline) return runFoldTask(task);
    const pool = this.started(this.filename);
    const maxQueue = this.options.maxQueue;
    if (pool.queueSize >= maxQueue) throw new FoldQueueFullError(maxQueue);
    // A copy of exactly the body's bytes, moved to the worker: cloning the view instead would copy its whole backing
    // ArrayBuffer (a socket read buffer or Buffer's 8 KiB pool slab), and copy it twice.
    const body = new Uint8Array(task.body);
    try {
      const jfrLabels = task.jfrLabels ? new Uint8Array(task.jfrLabels) : null;
      // @types/node 26 types MessagePort.postMessage's second argument as options, which piscina's TransferList
      // infers; piscina still passes an array of transferables through, as before.
      const move = {
        transferList: jfrLabels ? [body.buffer, jfrLabels.buffer] : [body.buffer],
      } as unknown as Parameters<typeof pool.run>[1];
      return (await pool.run({ ...task, body, jfrLabels }, move)) as FoldTaskResult;
    } catch (err: unknown) {
      if (err instanceof Error && err.message === 'Task queue is at limit') throw new FoldQueueFullError(maxQueue);
      throw err;
    }
  }

  /** Stops the threads; tasks still queued are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy();
  }

  /** Small enough to fold here: at most `inlineMaxBytes`, and (gzip) inflating to at most INLINE_MAX_INFLATED_BYTES. */
  private cheapInline(body: Uint8Array): boolean {
    if (body.length > (this.options.inlineMaxBytes ?? 0)) return false;
    if (!isGzip(body)) return true;
    try {
      gunzipSync(body, { maxOutputLength: INLINE_MAX_INFLATED_BYTES });
      return true;
    } catch {
      return false; // larger when inflated, or corrupt: a worker folds it (or reports it unreadable)
    }
  }

  private started(filename: string): Piscina {
    if (this.closed) throw new Error('the ingest fold pool is closed');
    this.pool ??= new Piscina({
      filename,
      name: 'foldTask',
      minThreads: 1,
      maxThreads: this.options.workers,
      maxQueue: this.options.maxQueue,
      idleTimeout: IDLE_TIMEOUT_MS,
      // One CPU-bound task per thread: a second would only wait behind the first.
      concurrentTasksPerWorker: 1,
    });
    return this.pool;
  }
}

/**
 * The compiled worker next to this file (dist/), or, when flamebill runs from its TypeScript sources (vitest), the
 * CommonJS loader that compiles the .ts worker inside the thread.
 */
function defaultWorkerFile(): string {
  const compiled = join(__dirname, 'ingest-fold.worker.js');
  if (existsSync(compiled)) return compiled;
  const fromSources = join(__dirname, 'ingest-fold.worker-ts.cjs');
  if (existsSync(fromSources)) return fromSources;
  throw new Error(`no fold worker script next to ${__filename} (expected ingest-fold.worker.js)`);
}
