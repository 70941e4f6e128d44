import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A daily rollup of the provenance of the service rows, for the cost query service's provenance of whole days
 * (docs/data-model.md, "Query service"). Provenance was only on the hourly `cost_service_windows`: the organisation's
 * provenance of a week unnested the price ids and profile digests of 168,000 hourly rows at 1,000 services (about
 * 250 ms); their day rows are 7,000, with each list already distinct.
 *
 * - `cost_provenance_days`: one row per (day, service, team), with the distinct, sorted price ids and profile digests
 *   of the service's hourly rows of that day (a service that changed team within a day has a row per team, as in
 *   `cost_service_days`). Rebuilt with the day's other rollups in the attribution's transaction; retention deletes
 *   its days with the hourly rows they were taken from, so provenance answers for exactly the days it did before.
 *
 * Existing days are filled from the hourly rows.
 */
export class ProvenanceDays1796520000000 implements MigrationInterface {
  name = 'ProvenanceDays1796520000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE cost_provenance_days (
        day             date   NOT NULL,
        service         text   NOT NULL,
        team            text   NOT NULL,
        price_ids       text[] NOT NULL,
        profile_digests text[] NOT NULL,
        PRIMARY KEY (day, service, team)
      )`);
    await queryRunner.query(`CREATE INDEX cost_provenance_days_service_idx ON cost_provenance_days (service, day)`);
    await queryRunner.query(`CREATE INDEX cost_provenance_days_team_idx ON cost_provenance_days (team, day)`);
    await queryRunner.query(`
      INSERT INTO cost_provenance_days (day, service, team, price_ids, profile_digests)
      SELECT (s.window_start AT TIME ZONE 'UTC')::date, s.service, s.team,
             coalesce(array_agg(DISTINCT p.id ORDER BY p.id) FILTER (WHERE p.id IS NOT NULL), '{}'),
             coalesce(array_agg(DISTINCT d.digest ORDER BY d.digest) FILTER (WHERE d.digest IS NOT NULL), '{}')
        FROM cost_service_windows s
        LEFT JOIN LATERAL unnest(s.price_ids) AS p(id) ON true
        LEFT JOIN LATERAL unnest(s.profile_digests) AS d(digest) ON true
       GROUP BY 1, 2, 3`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE cost_provenance_days`);
  }
}
