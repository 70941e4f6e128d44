import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Job runs report a heartbeat; a run whose process died is marked `abandoned` instead of staying `running`. */
export class JobRunHeartbeat1796400000000 implements MigrationInterface {
  name = 'JobRunHeartbeat1796400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE job_runs ADD COLUMN heartbeat_at timestamptz`);
    await queryRunner.query(`ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check`);
    await queryRunner.query(
      `ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'abandoned'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE job_runs SET status = 'failed' WHERE status = 'abandoned'`);
    await queryRunner.query(`ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check`);
    await queryRunner.query(
      `ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check CHECK (status IN ('running', 'succeeded', 'failed', 'skipped'))`,
    );
    await queryRunner.query(`ALTER TABLE job_runs DROP COLUMN heartbeat_at`);
  }
}
