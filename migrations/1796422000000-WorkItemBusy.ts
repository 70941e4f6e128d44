import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Work items can end `busy`: the outside system was busy with work of its own (a Go program whose CPU profiler is
 * in use), recorded as such rather than failed, and retried by the next scheduled run rather than at once.
 */
export class WorkItemBusy1796422000000 implements MigrationInterface {
  name = 'WorkItemBusy1796422000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE work_items DROP CONSTRAINT work_items_status_check`);
    await queryRunner.query(
      `ALTER TABLE work_items ADD CONSTRAINT work_items_status_check CHECK (status IN ('pending', 'running', 'done', 'failed', 'busy'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE work_items SET status = 'failed' WHERE status = 'busy'`);
    await queryRunner.query(`ALTER TABLE work_items DROP CONSTRAINT work_items_status_check`);
    await queryRunner.query(
      `ALTER TABLE work_items ADD CONSTRAINT work_items_status_check CHECK (status IN ('pending', 'running', 'done', 'failed'))`,
    );
  }
}
