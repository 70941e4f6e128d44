import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Regression findings and their tickets (src/regressions):
 *
 * - `regression_findings`: one row per fingerprint (service, function, sample type, kind), with the figures of the
 *   scan that last saw it and its state: open, resolved, reopened. `notified_delta` is the CPU delta the last
 *   message carried, so that only growth past `regressions.growthToComment` adds a comment.
 * - `regression_outbox`: what must be told to a tracker, written in the transaction that changed the finding
 *   (transactional outbox); `ticket-delivery` sends rows oldest first per fingerprint and marks them sent.
 * - `regression_tickets`: the tracker's id and URL of each finding's ticket, recorded with the sent mark: the record,
 *   not hope, prevents a second ticket.
 */
export class RegressionFindings1796440000000 implements MigrationInterface {
  name = 'RegressionFindings1796440000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE regression_findings (
        fingerprint            text             PRIMARY KEY,
        service                text             NOT NULL,
        function_name          text             NOT NULL,
        sample_type            text             NOT NULL,
        kind                   text             NOT NULL CHECK (kind IN ('flat', 'cum')),
        team                   text,
        state                  text             NOT NULL CHECK (state IN ('open', 'resolved', 'reopened')),
        base_share             double precision NOT NULL,
        current_share          double precision NOT NULL,
        base_cpu_nanoseconds   bigint           NOT NULL,
        current_cpu_nanoseconds bigint          NOT NULL,
        cpu_nanoseconds_delta  bigint           NOT NULL,
        impact_per_year_micros bigint,
        p_value                double precision NOT NULL,
        base_version           text,
        current_version        text,
        base_from              timestamptz      NOT NULL,
        base_to                timestamptz      NOT NULL,
        current_from           timestamptz      NOT NULL,
        current_to             timestamptz      NOT NULL,
        top_callers            jsonb            NOT NULL DEFAULT '[]',
        notified_delta         bigint           NOT NULL,
        first_seen_at          timestamptz      NOT NULL DEFAULT now(),
        last_seen_at           timestamptz      NOT NULL DEFAULT now(),
        resolved_at            timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX regression_findings_service_idx ON regression_findings (service, state)`);
    await queryRunner.query(`
      CREATE TABLE regression_outbox (
        id              bigserial   PRIMARY KEY,
        fingerprint     text        NOT NULL REFERENCES regression_findings (fingerprint) ON DELETE CASCADE,
        event           text        NOT NULL CHECK (event IN ('opened', 'grew', 'resolved', 'reopened')),
        payload         jsonb       NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        attempts        integer     NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error      text,
        sent_at         timestamptz,
        dry_run         boolean     NOT NULL DEFAULT false
      )`);
    await queryRunner.query(
      `CREATE INDEX regression_outbox_pending_idx ON regression_outbox (fingerprint, id) WHERE sent_at IS NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE regression_tickets (
        fingerprint text        PRIMARY KEY REFERENCES regression_findings (fingerprint) ON DELETE CASCADE,
        tracker     text        NOT NULL,
        project     text        NOT NULL,
        remote_id   text        NOT NULL,
        url         text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE regression_tickets`);
    await queryRunner.query(`DROP TABLE regression_outbox`);
    await queryRunner.query(`DROP TABLE regression_findings`);
  }
}
