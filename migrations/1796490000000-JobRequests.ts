import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Runs of a job asked for over the API (`POST /api/v1/jobs/{job}/runs`, admin): the serving process records the
 * request, and the process that runs the scheduled jobs (its `flamebill jobs` child, or itself when inline) takes it,
 * so a job never runs on the thread that answers HTTP.
 */
export class JobRequests1796490000000 implements MigrationInterface {
  name = 'JobRequests1796490000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE job_requests (
         id bigserial PRIMARY KEY,
         job text NOT NULL,
         options jsonb NOT NULL DEFAULT '{}'::jsonb,
         requested_by text NOT NULL,
         requested_at timestamptz NOT NULL DEFAULT now(),
         status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'abandoned')),
         claimed_at timestamptz,
         heartbeat_at timestamptz,
         finished_at timestamptz,
         summary jsonb
       )`,
    );
    await queryRunner.query(`CREATE INDEX job_requests_pending ON job_requests (id) WHERE status = 'pending'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE job_requests`);
  }
}
