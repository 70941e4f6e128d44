import type { InsertResult, NewProfileRow } from './profile.repository';

/** How single-row inserts are grouped into commits (`ingest.insertBatch`). */
export interface InsertBatchOptions {
  /** Rows per statement at most. */
  readonly maxRows: number;
  /** Bytes of `fold` + `raw` per statement at most (a single larger row still goes alone). */
  readonly maxBytes: number;
  /** Statements in flight at once (each holds one pooled connection while it runs). */
  readonly writers: number;
}

/** The defaults of `ingest.insertBatch` (docs/ingest.md, "Throughput", says how they were chosen). */
export const DEFAULT_INSERT_BATCH: InsertBatchOptions = { maxRows: 64, maxBytes: 16 * 1024 * 1024, writers: 2 };

interface Waiting {
  readonly row: NewProfileRow;
  readonly bytes: number;
  readonly resolve: (result: InsertResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for single-row inserts: rows handed to `insert` while `writers` statements are running wait
 * and go together in the next one, so many concurrent pushes cost one commit (one WAL flush) instead of one each.
 * A row arriving when a writer is free waits only until the end of the current event-loop turn, so an idle server
 * adds no latency. Each promise resolves only after the statement holding its row has committed.
 *
 * When a statement of several rows fails, each of its rows is retried alone, so one bad row (or a deadlock between
 * a retry and its original) fails only itself. A retried row that had in fact been committed (the connection broke
 * after COMMIT) is found by its identity and answered as a duplicate: still counted once.
 */
export class ProfileInsertBatcher {
  private readonly waiting: Waiting[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly writeMany: (rows: readonly NewProfileRow[]) => Promise<InsertResult[]>,
    private readonly options: InsertBatchOptions = DEFAULT_INSERT_BATCH,
  ) {}

  /** Stores one row in the next batch; resolves after its commit. */
  insert(row: NewProfileRow): Promise<InsertResult> {
    return new Promise<InsertResult>((resolve, reject) => {
      this.waiting.push({ row, bytes: row.fold.byteLength + (row.raw?.byteLength ?? 0), resolve, reject });
      this.schedule();
    });
  }

  /** Rows waiting for a statement (not counting those being written). */
  get backlog(): number {
    return this.waiting.length;
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.options.writers) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.options.writers && this.waiting.length > 0) {
      const batch = this.take();
      this.running++;
      void this.write(batch).finally(() => {
        this.running--;
        if (this.waiting.length > 0) this.schedule();
      });
    }
  }

  /** The oldest waiting rows, up to the row and byte limits (at least one). */
  private take(): Waiting[] {
    let bytes = 0;
    let n = 0;
    while (n < this.waiting.length && n < this.options.maxRows) {
      const next = this.waiting[n]!.bytes;
      if (n > 0 && bytes + next > this.options.maxBytes) break;
      bytes += next;
      n++;
    }
    return this.waiting.splice(0, n);
  }

  private async write(batch: readonly Waiting[]): Promise<void> {
    try {
      const results = await this.writeMany(batch.map((w) => w.row));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (error: unknown) {
      if (batch.length === 1) return batch[0]!.reject(error);
      // One after the other: this writer holds one connection, whatever the batch size.
      for (const w of batch) {
        try {
          const [result] = await this.writeMany([w.row]);
          w.resolve(result!);
        } catch (rowError: unknown) {
          w.reject(rowError);
        }
      }
    }
  }
}
