import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where a dry-run delivery would have sent an outbox row (`route_tracker`, `route_project`), recorded when the row is
 * marked sent in dry run, so the regressions API can show the ticket that would have been filed. Null for rows sent
 * for real (their ticket is in `regression_tickets`) and for rows delivered before this migration.
 */
export class OutboxDryRunRoute1796460000000 implements MigrationInterface {
  name = 'OutboxDryRunRoute1796460000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE regression_outbox ADD COLUMN route_tracker text, ADD COLUMN route_project text`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE regression_outbox DROP COLUMN route_tracker, DROP COLUMN route_project`);
  }
}
