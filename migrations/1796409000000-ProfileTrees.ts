import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Merged call trees (src/profile-trees, docs/data-model.md):
 *
 * - `profile_window_trees`: per (service, window, version) the stack tree of the window's stored profiles of that
 *   service, encoded with `encodeTree`; version '' is the tree of every sample, other rows one `version` label value
 *   each. `digests_key` (sha256 of the sorted profile digests) tells an unchanged window from a changed one, so a
 *   re-attribution rewrites nothing. `missing_raw` counts profiles whose raw bytes were not stored (ingest.keepRaw
 *   off, or dropped) or could not be read: their CPU time is in the facts but not in the tree.
 * - `profile_day_trees`: per (service, UTC day, version) the merge of that day's window trees, rebuilt from them
 *   whenever one of its windows changes (rebuilding is exact and idempotent; subtracting old contributions is not
 *   needed).
 */
export class ProfileTrees1796409000000 implements MigrationInterface {
  name = 'ProfileTrees1796409000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE profile_window_trees (
        service         text        NOT NULL,
        window_start    timestamptz NOT NULL,
        version         text        NOT NULL,
        digests_key     text        NOT NULL,
        profiles        integer     NOT NULL,
        missing_raw     integer     NOT NULL,
        cpu_nanoseconds bigint      NOT NULL,
        node_count      integer     NOT NULL,
        tree            bytea       NOT NULL,
        PRIMARY KEY (service, window_start, version)
      )`);
    await queryRunner.query(`CREATE INDEX profile_window_trees_window_idx ON profile_window_trees (window_start)`);
    await queryRunner.query(`
      CREATE TABLE profile_day_trees (
        service         text        NOT NULL,
        day             date        NOT NULL,
        version         text        NOT NULL,
        windows         integer     NOT NULL,
        profiles        integer     NOT NULL,
        missing_raw     integer     NOT NULL,
        cpu_nanoseconds bigint      NOT NULL,
        node_count      integer     NOT NULL,
        tree            bytea       NOT NULL,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (service, day, version)
      )`);
    await queryRunner.query(`CREATE INDEX profile_day_trees_day_idx ON profile_day_trees (day)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE profile_day_trees`);
    await queryRunner.query(`DROP TABLE profile_window_trees`);
  }
}
