import { Injectable } from '@nestjs/common';
import os from 'node:os';
import { DataSource, type EntityManager } from 'typeorm';
import { queryRows } from '../database/query-rows';

/** `abandoned`: the run's process stopped reporting (killed, or cut off from the database) before it finished. */
export type JobRunStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'abandoned';

/** One run of a scheduled job, as stored in `job_runs`. */
export interface JobRun {
  /** bigserial, as a decimal string. */
  readonly id: string;
  readonly job: string;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly status: JobRunStatus;
  readonly windowFrom: Date | null;
  readonly windowTo: Date | null;
  /** What the run did, e.g. `{ profiles: 12, bytes: 1048576 }`. */
  readonly counts: Readonly<Record<string, number>>;
  readonly error: string | null;
  readonly host: string;
}

export interface StartJobRun {
  readonly job: string;
  /** The [from, to) window the run covers, when it has one. */
  readonly window?: { readonly from: Date; readonly to: Date };
  /** Defaults to this machine's hostname (which replica ran it). */
  readonly host?: string;
}

interface JobRunRow {
  id: string;
  job: string;
  started_at: Date;
  finished_at: Date | null;
  status: JobRunStatus;
  window_from: Date | null;
  window_to: Date | null;
  counts: Record<string, number>;
  error: string | null;
  host: string;
}

const COLUMNS = 'id, job, started_at, finished_at, status, window_from, window_to, counts, error, host';

/**
 * `job_runs` access: a run is started (`running`), then finished as `succeeded` or `skipped`, or
 * failed with its error. Every method takes an optional EntityManager to join a caller's transaction.
 * Times come from the database clock.
 */
@Injectable()
export class JobRunRepository {
  constructor(private readonly dataSource: DataSource) {}

  async start(run: StartJobRun, manager?: EntityManager): Promise<JobRun> {
    const rows = await queryRows<JobRunRow>(
      this.db(manager),
      `INSERT INTO job_runs (job, window_from, window_to, host) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [run.job, run.window?.from ?? null, run.window?.to ?? null, run.host ?? os.hostname()],
    );
    return toJobRun(single(rows, 'insert'));
  }

  /** Marks a running run `succeeded` or `skipped` with its counts. @throws Error when the run is not running. */
  finish(
    id: string,
    status: 'succeeded' | 'skipped',
    counts: Record<string, number> = {},
    manager?: EntityManager,
  ): Promise<JobRun> {
    return this.close(id, status, counts, null, manager);
  }

  /** Marks a running run `failed`, keeping the error message (and any counts reached). */
  fail(id: string, error: unknown, counts: Record<string, number> = {}, manager?: EntityManager): Promise<JobRun> {
    const message = error instanceof Error ? error.message : String(error);
    return this.close(id, 'failed', counts, message, manager);
  }

  /** Most recent runs first, optionally of one job. */
  /** Records that the run is still alive (its process runs and reaches the database). */
  async heartbeat(id: string, manager?: EntityManager): Promise<void> {
    await this.db(manager).query(`UPDATE job_runs SET heartbeat_at = now() WHERE id = $1 AND status = 'running'`, [id]);
  }

  /**
   * Marks as abandoned the `running` runs that have not reported for `staleMs` (their last heartbeat, or their
   * start when they never beat): their process was killed or lost the database. Returns how many.
   */
  async abandonStale(staleMs: number, manager?: EntityManager): Promise<number> {
    const rows = await queryRows<unknown>(
      this.db(manager),
      `UPDATE job_runs SET status = 'abandoned', finished_at = now(),
              error = 'abandoned: no heartbeat since ' || to_char(coalesce(heartbeat_at, started_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        WHERE status = 'running' AND coalesce(heartbeat_at, started_at) < now() - ($1::double precision * interval '1 millisecond')
        RETURNING id`,
      [staleMs],
    );
    return rows.length;
  }

  async listRecent(options: { job?: string; limit?: number } = {}, manager?: EntityManager): Promise<JobRun[]> {
    const rows = await queryRows<JobRunRow>(
      this.db(manager),
      `SELECT ${COLUMNS} FROM job_runs WHERE ($1::text IS NULL OR job = $1) ORDER BY started_at DESC, id DESC LIMIT $2`,
      [options.job ?? null, options.limit ?? 50],
    );
    return rows.map(toJobRun);
  }

  /**
   * Retention: deletes finished runs that started before `before`, except each job's latest successful run (what a
   * pull resumes from, and what GET /api/v1/jobs shows as the last success). Returns how many.
   */
  async deleteFinishedBefore(before: Date): Promise<number> {
    const rows = await queryRows<{ n: string }>(
      this.db(),
      `WITH d AS (
         DELETE FROM job_runs r WHERE r.status NOT IN ('running') AND r.started_at < $1
            AND r.id <> ALL (SELECT DISTINCT ON (job) id FROM job_runs WHERE status = 'succeeded' ORDER BY job, finished_at DESC, id DESC)
         RETURNING 1)
       SELECT count(*)::text AS n FROM d`,
      [before],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** The latest successful run of `job`, e.g. to resume a pull where it stopped. */
  async lastSucceeded(job: string, manager?: EntityManager): Promise<JobRun | null> {
    const rows = await queryRows<JobRunRow>(
      this.db(manager),
      `SELECT ${COLUMNS} FROM job_runs WHERE job = $1 AND status = 'succeeded' ORDER BY finished_at DESC, id DESC LIMIT 1`,
      [job],
    );
    return rows[0] ? toJobRun(rows[0]) : null;
  }

  private async close(
    id: string,
    status: JobRunStatus,
    counts: Record<string, number>,
    error: string | null,
    manager?: EntityManager,
  ): Promise<JobRun> {
    const rows = await queryRows<JobRunRow>(
      this.db(manager),
      `UPDATE job_runs SET status = $2, finished_at = now(), counts = $3::jsonb, error = $4
       WHERE id = $1 AND status = 'running' RETURNING ${COLUMNS}`,
      [id, status, JSON.stringify(counts), error],
    );
    return toJobRun(single(rows, `job run ${id} is not running`));
  }

  private db(manager?: EntityManager): EntityManager | DataSource {
    return manager ?? this.dataSource;
  }
}

function single(rows: JobRunRow[], what: string): JobRunRow {
  const [row] = rows;
  if (!row) throw new Error(what);
  return row;
}

function toJobRun(row: JobRunRow): JobRun {
  return {
    id: row.id,
    job: row.job,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    status: row.status,
    windowFrom: row.window_from,
    windowTo: row.window_to,
    counts: row.counts,
    error: row.error,
    host: row.host,
  };
}
