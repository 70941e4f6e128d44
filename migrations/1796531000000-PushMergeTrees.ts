import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Merged call trees beside the pushes' merges: per window and push group (as `profile_push_merges`), the unpruned
 * tree of every push up to `through_id` built from its raw bytes, whole (`version` '') and, when `split_version`, per
 * `version` label value. Kept by `compact-pushes`; the `profile-trees` job merges them with the trees of the pushes
 * after `through_id` instead of building every push again. Its own `through_id`: attribution moves the fold merge
 * forward without building trees.
 */
export class PushMergeTrees1796531000000 implements MigrationInterface {
  name = 'PushMergeTrees1796531000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE profile_push_merge_trees (
        window_start    timestamptz NOT NULL,
        group_key       text        NOT NULL,
        version         text        NOT NULL,
        through_id      bigint      NOT NULL,
        split_version   boolean     NOT NULL,
        profile_count   integer     NOT NULL CHECK (profile_count > 0),
        missing_raw     integer     NOT NULL,
        tree            bytea,
        PRIMARY KEY (window_start, group_key, version)
      )`);
    await queryRunner.query(`ALTER TABLE profile_push_merge_trees ALTER COLUMN tree SET STORAGE EXTERNAL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE profile_push_merge_trees`);
  }
}
