import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '../database/query-rows';

export type JobRequestStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'abandoned';

/** What a request asks the job to do: `RunOptions` as JSON (dates as ISO strings). */
export interface JobRequestOptions {
  readonly from?: string;
  readonly to?: string;
  readonly force?: boolean;
  readonly dryRun?: boolean;
}

export interface JobRequest {
  readonly id: string;
  readonly job: string;
  readonly options: JobRequestOptions;
  readonly requestedBy: string;
  readonly requestedAt: Date;
  readonly status: JobRequestStatus;
  readonly claimedAt: Date | null;
  readonly finishedAt: Date | null;
  /** The run's summary (status, counts, errors) once it finished. */
  readonly summary: Readonly<Record<string, unknown>> | null;
}

const COLUMNS = `id::text AS id, job, options, requested_by AS "requestedBy", requested_at AS "requestedAt", status,
  claimed_at AS "claimedAt", finished_at AS "finishedAt", summary`;

/** `job_requests`: runs asked for over the API, taken by the process that runs scheduled jobs. */
@Injectable()
export class JobRequestRepository {
  constructor(private readonly db: DataSource) {}

  async insert(job: string, options: JobRequestOptions, requestedBy: string): Promise<JobRequest> {
    const [row] = await queryRows<JobRequest>(
      this.db,
      `INSERT INTO job_requests (job, options, requested_by) VALUES ($1, $2::jsonb, $3) RETURNING ${COLUMNS}`,
      [job, JSON.stringify(options), requestedBy],
    );
    return row!;
  }

  async get(id: string): Promise<JobRequest | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const [row] = await queryRows<JobRequest>(this.db, `SELECT ${COLUMNS} FROM job_requests WHERE id = $1`, [id]);
    return row ?? null;
  }

  async recent(limit: number): Promise<JobRequest[]> {
    return queryRows<JobRequest>(this.db, `SELECT ${COLUMNS} FROM job_requests ORDER BY id DESC LIMIT $1`, [limit]);
  }

  /** The oldest pending request, now `running` for this process; replicas skip each other's (SKIP LOCKED). */
  async claimNext(): Promise<JobRequest | null> {
    const [row] = await queryRows<JobRequest>(
      this.db,
      `UPDATE job_requests SET status = 'running', claimed_at = now(), heartbeat_at = now()
        WHERE id = (SELECT id FROM job_requests WHERE status = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}`,
    );
    return row ?? null;
  }

  async finish(id: string, status: 'succeeded' | 'failed', summary: Record<string, unknown>): Promise<void> {
    await this.db.query(
      `UPDATE job_requests SET status = $2, finished_at = now(), summary = $3::jsonb WHERE id = $1 AND status = 'running'`,
      [id, status, JSON.stringify(summary)],
    );
  }

  /** Deletes finished requests older than `before`; returns how many. */
  async deleteFinishedBefore(before: Date): Promise<number> {
    const rows = await queryRows<{ n: string }>(
      this.db,
      `WITH d AS (DELETE FROM job_requests WHERE status NOT IN ('pending', 'running') AND requested_at < $1 RETURNING 1)
       SELECT count(*)::text AS n FROM d`,
      [before],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** The process running `ids` is alive. */
  async heartbeat(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `UPDATE job_requests SET heartbeat_at = now() WHERE id = ANY($1::bigint[]) AND status = 'running'`,
      [ids],
    );
  }

  /**
   * Requests whose process stopped beating (killed, cut off from the database) longer ago than `staleMs`:
   * `abandoned`, so their state tells the truth; the job's own runs and items are recovered by the work queue's leases.
   */
  async abandonStale(staleMs: number): Promise<number> {
    const rows = await queryRows<{ id: string }>(
      this.db,
      `UPDATE job_requests SET status = 'abandoned', finished_at = now()
        WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1) RETURNING id::text AS id`,
      [staleMs / 1000],
    );
    return rows.length;
  }
}
