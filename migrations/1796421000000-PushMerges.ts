import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pushes compacted per window: the merged fold of every push of one attribution group (service, source, cluster,
 * region, profile type) of a window up to `through_id`. Attribution reads it plus the pushes that came after, not
 * every push again; it writes the new merge in the transaction that stores the window's facts.
 */
export class PushMerges1796421000000 implements MigrationInterface {
  name = 'PushMerges1796421000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE profile_push_merges (
        window_start    timestamptz NOT NULL,
        group_key       text        NOT NULL,
        service         text        NOT NULL,
        profile_type    text        NOT NULL,
        window_end      timestamptz NOT NULL,
        series_labels   jsonb       NOT NULL,
        through_id      bigint      NOT NULL,
        profile_count   integer     NOT NULL CHECK (profile_count > 0),
        cpu_nanoseconds bigint      NOT NULL,
        sample_count    bigint      NOT NULL,
        digest_sum      text        NOT NULL,
        fold            bytea       NOT NULL,
        PRIMARY KEY (window_start, group_key)
      )`);
    await queryRunner.query(`ALTER TABLE profile_push_merges ALTER COLUMN fold SET STORAGE EXTERNAL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE profile_push_merges`);
  }
}
