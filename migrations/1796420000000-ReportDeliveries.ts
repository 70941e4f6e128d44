import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The weekly report's send log: one row per (ISO week, recipient key), so a re-run or a second replica sends nothing
 * twice. `sending` is written (and committed) before the SMTP transaction and `sent` after it.
 */
export class ReportDeliveries1796420000000 implements MigrationInterface {
  name = 'ReportDeliveries1796420000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE report_deliveries (
        week        text        NOT NULL,
        recipient   text        NOT NULL,
        kind        text        NOT NULL CHECK (kind IN ('team', 'org')),
        team        text,
        address     text        NOT NULL,
        message_id  text        NOT NULL,
        status      text        NOT NULL CHECK (status IN ('sending', 'sent', 'refused', 'failed')),
        attempts    integer     NOT NULL DEFAULT 0,
        last_error  text,
        response    text,
        sent_at     timestamptz,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (week, recipient)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE report_deliveries`);
  }
}
