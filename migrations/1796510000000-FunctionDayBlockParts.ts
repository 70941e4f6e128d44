import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Entries per part row; the repository (src/cost/function-day.repository.ts) writes parts of this size. */
const PART_ENTRIES = 4096;

/**
 * A block row of `cost_function_day_blocks` becomes one or more part rows of at most 4,096 entries, each with the
 * first and last function id it holds (generated columns). A block of 256 function ids that every service runs holds 256 × services
 * entries (200,000 at 1,000 services: about 5 MB once detoasted), and reading one function's slice (which services
 * pay for it) detoasted the whole block for every day of the period. A part names its function range in plain
 * columns, so such a read detoasts only the one or two parts that hold the function: about 100 KB a day.
 *
 * Existing rows larger than a part are split in place (entries keep their order: function id, then service id).
 */
export class FunctionDayBlockParts1796510000000 implements MigrationInterface {
  name = 'FunctionDayBlockParts1796510000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`
      ALTER TABLE cost_function_day_blocks
        ADD COLUMN part integer NOT NULL DEFAULT 0,
        DROP CONSTRAINT cost_function_day_blocks_pkey`);
    await q(`
      WITH big AS (
        DELETE FROM cost_function_day_blocks WHERE cardinality(function_ids) > ${PART_ENTRIES}
        RETURNING day, block, service_ids, function_ids, self_microdollars, cum_microdollars)
      INSERT INTO cost_function_day_blocks (day, block, part, service_ids, function_ids, self_microdollars, cum_microdollars)
      SELECT day, block, ((e.o - 1) / ${PART_ENTRIES})::int, array_agg(e.s ORDER BY e.o), array_agg(e.f ORDER BY e.o),
             array_agg(e.x ORDER BY e.o), array_agg(e.c ORDER BY e.o)
        FROM big CROSS JOIN LATERAL unnest(service_ids, function_ids, self_microdollars, cum_microdollars) WITH ORDINALITY AS e(s, f, x, c, o)
       GROUP BY day, block, (e.o - 1) / ${PART_ENTRIES}`);
    // Generated, not updated in place: an UPDATE of every row before building the key leaves broken HOT chains, and
    // PostgreSQL would not use the new key until every older snapshot is gone.
    await q(`
      ALTER TABLE cost_function_day_blocks
        ALTER COLUMN part DROP DEFAULT,
        ADD COLUMN first_function integer GENERATED ALWAYS AS (function_ids[1]) STORED,
        ADD COLUMN last_function integer GENERATED ALWAYS AS (function_ids[cardinality(function_ids)]) STORED,
        ADD PRIMARY KEY (day, block, part)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    // Parts of one block joined again (in part order, which is entry order).
    await q(`
      WITH parts AS (
        DELETE FROM cost_function_day_blocks WHERE (day, block) IN (SELECT day, block FROM cost_function_day_blocks WHERE part > 0)
        RETURNING day, block, part, service_ids, function_ids, self_microdollars, cum_microdollars)
      INSERT INTO cost_function_day_blocks (day, block, part, service_ids, function_ids, self_microdollars, cum_microdollars)
      SELECT day, block, 0, array_agg(e.s ORDER BY parts.part, e.o), array_agg(e.f ORDER BY parts.part, e.o),
             array_agg(e.x ORDER BY parts.part, e.o), array_agg(e.c ORDER BY parts.part, e.o)
        FROM parts CROSS JOIN LATERAL unnest(service_ids, function_ids, self_microdollars, cum_microdollars) WITH ORDINALITY AS e(s, f, x, c, o)
       GROUP BY day, block`);
    await q(`
      ALTER TABLE cost_function_day_blocks
        DROP CONSTRAINT cost_function_day_blocks_pkey,
        DROP COLUMN part,
        DROP COLUMN first_function,
        DROP COLUMN last_function,
        ADD PRIMARY KEY (day, block)`);
  }
}
