import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Weekly read-side copies of the daily function facts by service, for a team's or a service's top functions over
 * ISO weeks (docs/data-model.md, "Query service"). A team of ten services reads 70 per-service day rows of 2,000
 * functions for a week (~140,000 entries unnested and summed, then as many for the previous week); one row per
 * (ISO week, service) cuts that to ten rows.
 *
 * - `cost_function_service_weeks`: one row per (Monday of the week, service id), the Σ of that service's rows of
 *   `cost_function_service_days` over the week, built by the cost query service for the services it reads, with
 *   `token`: the week's day copies (`day=build token` of each day with function facts) it was summed from. A row
 *   whose token is not the week's current one (a later attribution rebuilt a day) is rebuilt before it is read.
 *   Attribution does not write it; retention deletes weeks that start before the cutoff month with the day copies.
 */
export class FunctionServiceWeeks1796471000000 implements MigrationInterface {
  name = 'FunctionServiceWeeks1796471000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE cost_function_service_weeks (
        week              date      NOT NULL CHECK (extract(isodow FROM week) = 1),
        service_id        integer   NOT NULL,
        token             text      NOT NULL,
        function_ids      integer[] NOT NULL,
        self_microdollars bigint[]  NOT NULL,
        cum_microdollars  bigint[]  NOT NULL,
        PRIMARY KEY (week, service_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE cost_function_service_weeks`);
  }
}
