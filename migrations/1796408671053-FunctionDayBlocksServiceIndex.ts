import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A GIN index on the service ids of the daily function blocks, for the cost query service: the top functions of
 * one service (or of a team's services) over a week read only the few blocks holding that service's entries
 * instead of unnesting every block of every day (~7,000 blocks and 2 M entries per day at 1,000 × 2,000).
 * Blocks are rewritten by attribution, so the index adds to that write (docs/data-model.md, "Query service").
 */
export class FunctionDayBlocksServiceIndex1796408671053 implements MigrationInterface {
  name = 'FunctionDayBlocksServiceIndex1796408671053';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX cost_function_day_blocks_service_ids_idx ON cost_function_day_blocks USING gin (service_ids)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX cost_function_day_blocks_service_ids_idx`);
  }
}
