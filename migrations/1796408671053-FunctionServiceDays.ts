import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A read-side copy of the daily function facts by service, kept by the cost query service (docs/data-model.md,
 * "Query service"). The day blocks group entries by function id, so one service's functions are spread over the
 * blocks and the blocks of functions every service runs hold an entry per service (~200,000 per block at
 * 1,000 × 2,000): a service's top functions over a week would unnest millions of entries. Here one row per
 * (day, service) holds that service's (function id, self, inclusive) arrays.
 *
 * - `cost_function_service_days`: the rows, rebuilt for a whole day from its blocks, with the Σ of their self
 *   amounts (the books' Σ functions without unnesting ~2 M block entries per day).
 * - `cost_function_service_day_builds`: per day, the `cost_function_day_states.token` the rows were built from; a
 *   day whose state token differs (a later attribution wrote it) is rebuilt before it is read, so the copy never
 *   answers with facts other than the blocks'. Attribution does not write these tables.
 */
export class FunctionServiceDays1796408671053 implements MigrationInterface {
  name = 'FunctionServiceDays1796408671053';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE cost_function_service_days (
        day               date      NOT NULL,
        service_id        integer   NOT NULL,
        function_ids      integer[] NOT NULL,
        self_microdollars bigint[]  NOT NULL,
        cum_microdollars  bigint[]  NOT NULL,
        self_total        bigint    NOT NULL,
        PRIMARY KEY (day, service_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE cost_function_service_day_builds (
        day   date PRIMARY KEY,
        token text NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE cost_function_service_day_builds`);
    await queryRunner.query(`DROP TABLE cost_function_service_days`);
  }
}
