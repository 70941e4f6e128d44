import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A daily rollup of the label facts, for the cost query service's `label:<key>` rows (docs/data-model.md, "Query
 * service"). Label rows had only the hourly `cost_label_windows`, whose primary key leads with `window_start`: a
 * service's or a team's label rows over a week read every service's rows of the week (~700,000 at 1,000 services ×
 * 4 values), and a team's joined them to the service rows for the team. Here one row per (day, service, team, key,
 * value), with indexes that lead with the service and with the team.
 *
 * - `cost_label_days`: rebuilt with the day's service and team rollups in the attribution's transaction, from the
 *   hourly label rows and the team of their service row (a service that changed team within a day has a row per
 *   team, as in `cost_service_days`). Retention deletes its days with the hourly label rows they were summed from,
 *   so label answers cover the same days as before.
 *
 * Existing days are filled from the hourly rows.
 */
export class LabelDays1796470000000 implements MigrationInterface {
  name = 'LabelDays1796470000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE cost_label_days (
        day          date   NOT NULL,
        service      text   NOT NULL,
        team         text   NOT NULL,
        label_key    text   NOT NULL,
        label_value  text   NOT NULL,
        microdollars bigint NOT NULL,
        PRIMARY KEY (day, service, team, label_key, label_value)
      )`);
    await queryRunner.query(`CREATE INDEX cost_label_days_service_idx ON cost_label_days (service, label_key, day)`);
    await queryRunner.query(`CREATE INDEX cost_label_days_team_idx ON cost_label_days (team, label_key, day)`);
    await queryRunner.query(`
      INSERT INTO cost_label_days (day, service, team, label_key, label_value, microdollars)
      SELECT (l.window_start AT TIME ZONE 'UTC')::date, l.service, s.team, l.label_key, l.label_value, sum(l.microdollars)
        FROM cost_label_windows l JOIN cost_service_windows s USING (window_start, service)
       GROUP BY 1, 2, 3, 4, 5`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE cost_label_days`);
  }
}
