import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Shared job bookkeeping: `job_runs` (one row per run of a scheduled job, for the operator and the
 * "last successful pull" questions) and `work_items` (per-(service, window) units of a job, claimed
 * through PostgreSQL with FOR UPDATE SKIP LOCKED so N replicas never fold the same item twice).
 * Domain tables (catalog, prices, profiles, cost facts) come in their owners' migrations.
 */
export class InitialSchema1795318535842 implements MigrationInterface {
  name = 'InitialSchema1795318535842';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE job_runs (
        id          bigserial PRIMARY KEY,
        job         text        NOT NULL,
        started_at  timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        status      text        NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
        window_from timestamptz,
        window_to   timestamptz,
        counts      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        error       text,
        host        text        NOT NULL,
        CHECK ((status = 'running') = (finished_at IS NULL)),
        CHECK (window_to IS NULL OR window_from IS NULL OR window_to > window_from)
      )`);
    await queryRunner.query(`CREATE INDEX job_runs_job_started_idx ON job_runs (job, started_at DESC)`);
    await queryRunner.query(`
      CREATE TABLE work_items (
        id           bigserial PRIMARY KEY,
        job          text        NOT NULL,
        item_key     text        NOT NULL,
        window_start timestamptz NOT NULL,
        window_end   timestamptz NOT NULL,
        service      text,
        payload      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        status       text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'done', 'failed')),
        attempts     integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        lease_owner  text,
        lease_until  timestamptz,
        last_error   text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        finished_at  timestamptz,
        CONSTRAINT work_items_job_item_key_key UNIQUE (job, item_key),
        CHECK (window_end > window_start),
        CHECK (status <> 'running' OR (lease_owner IS NOT NULL AND lease_until IS NOT NULL))
      )`);
    // Claiming reads "pending, oldest first" and "running with an expired lease": one partial index each.
    await queryRunner.query(`CREATE INDEX work_items_pending_idx ON work_items (job, id) WHERE status = 'pending'`);
    await queryRunner.query(
      `CREATE INDEX work_items_lease_idx ON work_items (job, lease_until) WHERE status = 'running'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE work_items`);
    await queryRunner.query(`DROP TABLE job_runs`);
  }
}
