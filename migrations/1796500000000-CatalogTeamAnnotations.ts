import type { MigrationInterface, QueryRunner } from 'typeorm';

const CURRENT_TEAMS = `CREATE VIEW catalog_current_teams AS
  SELECT t.* FROM catalog_teams t JOIN catalog_current_revision r ON r.id = t.revision_id`;

/**
 * A Group's `metadata.annotations` on its `catalog_teams` row, as `catalog_services.annotations` keeps a Component's:
 * tickets of a Component without a routing annotation go where its owner Group (or a parent Group) points. Rows of
 * revisions stored before this migration have none (`{}`). `catalog_current_teams` (`t.*`, expanded when the view was
 * made) is made again so that it shows the column.
 */
export class CatalogTeamAnnotations1796500000000 implements MigrationInterface {
  name = 'CatalogTeamAnnotations1796500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP VIEW catalog_current_teams`);
    await queryRunner.query(`ALTER TABLE catalog_teams ADD COLUMN annotations jsonb NOT NULL DEFAULT '{}'::jsonb`);
    await queryRunner.query(CURRENT_TEAMS);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP VIEW catalog_current_teams`);
    await queryRunner.query(`ALTER TABLE catalog_teams DROP COLUMN annotations`);
    await queryRunner.query(CURRENT_TEAMS);
  }
}
