import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Daily function facts stored in blocks instead of one row per (day, service, function) (docs/data-model.md has the
 * measurements behind it). At 1,000 services × 2,000 functions every hourly window changes all 2 M rows of its day,
 * and updating 2 M rows per window was most of an attribution's time. Now:
 *
 * - `cost_services`: service name ↔ integer id (like `cost_functions`).
 * - `cost_function_day_blocks`: one row per (day, block of 256 function ids) holding that block's
 *   (service id, function id, self, inclusive) entries as parallel arrays, ordered by function id then service id;
 *   about 7,000 rows per day at that scale, rewritten (only the blocks that changed) by each attribution.
 * - `cost_function_days` becomes a view over the blocks with the same columns and rows as the table it replaces.
 * - `cost_function_day_tops`: per day and board (`self`, `inclusive`, `cross-self`, `cross-inclusive`) the first
 *   `top_size` lines by amount (then service id, function id), the sorted lists the function leaderboards start from.
 * - `cost_function_day_states`: per day, a token that changes with every write (an attribution process keeps the
 *   day's facts in memory and reads them again only when the token is not the one it wrote), the counts of entries
 *   and distinct functions (a board's list is complete when it holds them all) and the list size. Attributions lock
 *   the day's row, so windows of one day are applied one at a time.
 *
 * Existing daily facts are moved into the new tables.
 */
export class FunctionDayBlocks1795322317881 implements MigrationInterface {
  name = 'FunctionDayBlocks1795322317881';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`
      CREATE TABLE cost_services (
        id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text    NOT NULL,
        CONSTRAINT cost_services_name_key UNIQUE (name)
      )`);
    await q(`
      CREATE TABLE cost_function_day_blocks (
        day               date      NOT NULL,
        block             integer   NOT NULL,
        service_ids       integer[] NOT NULL,
        function_ids      integer[] NOT NULL,
        self_microdollars bigint[]  NOT NULL,
        cum_microdollars  bigint[]  NOT NULL,
        PRIMARY KEY (day, block)
      ) PARTITION BY RANGE (day)`);
    await q(`
      CREATE TABLE cost_function_day_tops (
        day               date    NOT NULL,
        board             text    NOT NULL CHECK (board IN ('self', 'inclusive', 'cross-self', 'cross-inclusive')),
        rank              integer NOT NULL,
        service_id        integer,
        function_id       integer NOT NULL,
        self_microdollars bigint  NOT NULL,
        cum_microdollars  bigint  NOT NULL,
        services          integer NOT NULL,
        PRIMARY KEY (day, board, rank)
      ) PARTITION BY RANGE (day)`);
    await q(`
      CREATE TABLE cost_function_day_states (
        day       date    PRIMARY KEY,
        token     text    NOT NULL,
        pairs     integer NOT NULL,
        functions integer NOT NULL,
        top_size  integer NOT NULL
      )`);

    // Move the existing daily facts.
    await q(`INSERT INTO cost_services (name) SELECT DISTINCT service FROM cost_function_days ORDER BY 1`);
    await q(`
      DO $$
      DECLARE m date;
      BEGIN
        FOR m IN SELECT DISTINCT date_trunc('month', day)::date FROM cost_function_days LOOP
          EXECUTE format('CREATE TABLE %I PARTITION OF cost_function_day_blocks FOR VALUES FROM (%L) TO (%L)',
                         'cost_function_day_blocks_' || to_char(m, '"y"YYYY"m"MM'), m, (m + interval '1 month')::date);
          EXECUTE format('CREATE TABLE %I PARTITION OF cost_function_day_tops FOR VALUES FROM (%L) TO (%L)',
                         'cost_function_day_tops_' || to_char(m, '"y"YYYY"m"MM'), m, (m + interval '1 month')::date);
        END LOOP;
      END $$`);
    await q(`
      INSERT INTO cost_function_day_blocks (day, block, service_ids, function_ids, self_microdollars, cum_microdollars)
      SELECT d.day, d.function_id >> 8,
             array_agg(s.id ORDER BY d.function_id, s.id), array_agg(d.function_id ORDER BY d.function_id, s.id),
             array_agg(d.self_microdollars ORDER BY d.function_id, s.id), array_agg(d.cum_microdollars ORDER BY d.function_id, s.id)
        FROM cost_function_days d JOIN cost_services s ON s.name = d.service
       GROUP BY d.day, d.function_id >> 8`);
    await q(`
      INSERT INTO cost_function_day_states (day, token, pairs, functions, top_size)
      SELECT day, 'migrated:' || md5(random()::text), count(*), count(DISTINCT function_id), 1000 FROM cost_function_days GROUP BY day`);
    await q(`
      INSERT INTO cost_function_day_tops (day, board, rank, service_id, function_id, self_microdollars, cum_microdollars, services)
      SELECT day, board, rank, service_id, function_id, self_microdollars, cum_microdollars, 1 FROM (
        SELECT d.day, b.board, s.id AS service_id, d.function_id, d.self_microdollars, d.cum_microdollars,
               row_number() OVER (PARTITION BY d.day, b.board
                                  ORDER BY CASE b.board WHEN 'self' THEN d.self_microdollars ELSE d.cum_microdollars END DESC, s.id, d.function_id) AS rank
          FROM cost_function_days d JOIN cost_services s ON s.name = d.service CROSS JOIN (VALUES ('self'), ('inclusive')) AS b(board)
      ) ranked WHERE rank <= 1000`);
    await q(`
      INSERT INTO cost_function_day_tops (day, board, rank, service_id, function_id, self_microdollars, cum_microdollars, services)
      SELECT day, board, rank, NULL, function_id, self, cum, services FROM (
        SELECT x.day, b.board, x.function_id, x.self, x.cum, x.services,
               row_number() OVER (PARTITION BY x.day, b.board ORDER BY CASE b.board WHEN 'cross-self' THEN x.self ELSE x.cum END DESC, x.function_id) AS rank
          FROM (SELECT day, function_id, sum(self_microdollars)::bigint AS self, sum(cum_microdollars)::bigint AS cum, count(*)::int AS services
                  FROM cost_function_days GROUP BY day, function_id) x
         CROSS JOIN (VALUES ('cross-self'), ('cross-inclusive')) AS b(board)
      ) ranked WHERE rank <= 1000`);

    await q(`DROP TABLE cost_function_days`);
    await q(`
      CREATE VIEW cost_function_days AS
        SELECT b.day, s.name AS service, e.function_id, e.self_microdollars, e.cum_microdollars
          FROM cost_function_day_blocks b
         CROSS JOIN LATERAL unnest(b.service_ids, b.function_ids, b.self_microdollars, b.cum_microdollars)
               AS e(service_id, function_id, self_microdollars, cum_microdollars)
          JOIN cost_services s ON s.id = e.service_id`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`ALTER VIEW cost_function_days RENAME TO cost_function_days_blocks_view`);
    await q(`
      CREATE TABLE cost_function_days (
        day               date    NOT NULL,
        service           text    NOT NULL,
        function_id       integer NOT NULL,
        self_microdollars bigint  NOT NULL,
        cum_microdollars  bigint  NOT NULL,
        PRIMARY KEY (day, service, function_id)
      ) PARTITION BY RANGE (day)`);
    await q(`
      DO $$
      DECLARE m date;
      BEGIN
        FOR m IN SELECT DISTINCT date_trunc('month', day)::date FROM cost_function_day_blocks LOOP
          EXECUTE format('CREATE TABLE %I PARTITION OF cost_function_days FOR VALUES FROM (%L) TO (%L)',
                         'cost_function_days_' || to_char(m, '"y"YYYY"m"MM'), m, (m + interval '1 month')::date);
        END LOOP;
      END $$`);
    await q(`INSERT INTO cost_function_days SELECT * FROM cost_function_days_blocks_view`);
    await q(`DROP VIEW cost_function_days_blocks_view`);
    for (const table of [
      'cost_function_day_states',
      'cost_function_day_tops',
      'cost_function_day_blocks',
      'cost_services',
    ])
      await q(`DROP TABLE ${table}`);
  }
}
