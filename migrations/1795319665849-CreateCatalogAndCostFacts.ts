import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Catalog revisions, price schedules and cost facts (see docs/data-model.md for the why and the measured sizes).
 *
 * - `catalog_revisions`: every distinct load of the catalog directory (ok or error, with problems and the normalized
 *   document); `catalog_services` / `catalog_teams` make a good revision queryable; `catalog_current_*` views show the
 *   revision in force (the good one loaded last).
 * - `price_schedules`: each effective price section of the settings (currency, prices, cost), by content digest.
 * - Hourly facts per attributed window (`cost_windows` header + service, team, label lines, and one compact function
 *   split per service), partitioned by month so retention drops partitions. Partitions are created on demand by the
 *   attribution repository.
 * - `cost_function_days`: function self/inclusive per (day, service, function), kept exact by applying each window's
 *   change; `cost_service_days` / `cost_team_days`: daily rollups kept forever.
 * Money is bigint micro-units of the currency; CPU time bigint nanoseconds.
 */
export class CreateCatalogAndCostFacts1795319665849 implements MigrationInterface {
  name = 'CreateCatalogAndCostFacts1795319665849';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`
      CREATE TABLE catalog_revisions (
        id             bigserial   PRIMARY KEY,
        revision       text        NOT NULL,
        status         text        NOT NULL CHECK (status IN ('ok', 'error')),
        source_dir     text        NOT NULL,
        files          jsonb       NOT NULL DEFAULT '[]'::jsonb,
        errors         jsonb       NOT NULL DEFAULT '[]'::jsonb,
        document       jsonb,
        loaded_at      timestamptz NOT NULL DEFAULT now(),
        last_loaded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT catalog_revisions_revision_key UNIQUE (revision),
        CHECK ((status = 'ok') = (document IS NOT NULL))
      )`);
    await q(
      `CREATE INDEX catalog_revisions_status_loaded_idx ON catalog_revisions (status, last_loaded_at DESC, id DESC)`,
    );
    await q(`
      CREATE TABLE catalog_teams (
        revision_id  bigint NOT NULL REFERENCES catalog_revisions (id) ON DELETE CASCADE,
        team         text   NOT NULL,
        group_key    text   NOT NULL,
        display_name text,
        email        text,
        parent_team  text,
        PRIMARY KEY (revision_id, team)
      )`);
    await q(`
      CREATE TABLE catalog_services (
        revision_id   bigint NOT NULL REFERENCES catalog_revisions (id) ON DELETE CASCADE,
        service       text   NOT NULL,
        component_key text   NOT NULL,
        team          text   NOT NULL,
        system        text,
        lifecycle     text,
        aliases       text[] NOT NULL DEFAULT '{}',
        patterns      text[] NOT NULL DEFAULT '{}',
        annotations   jsonb  NOT NULL DEFAULT '{}'::jsonb,
        PRIMARY KEY (revision_id, service)
      )`);
    await q(`
      CREATE VIEW catalog_current_revision AS
        SELECT * FROM catalog_revisions WHERE status = 'ok' ORDER BY last_loaded_at DESC, id DESC LIMIT 1`);
    await q(
      `CREATE VIEW catalog_current_services AS SELECT s.* FROM catalog_services s JOIN catalog_current_revision r ON r.id = s.revision_id`,
    );
    await q(
      `CREATE VIEW catalog_current_teams AS SELECT t.* FROM catalog_teams t JOIN catalog_current_revision r ON r.id = t.revision_id`,
    );

    await q(`
      CREATE TABLE price_schedules (
        id            text        PRIMARY KEY,
        currency      text        NOT NULL,
        document      jsonb       NOT NULL,
        first_used_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q(`
      CREATE TABLE cost_windows (
        window_start        timestamptz PRIMARY KEY,
        window_end          timestamptz NOT NULL,
        currency            text        NOT NULL,
        total_microdollars  bigint      NOT NULL,
        idle_microdollars   bigint      NOT NULL,
        default_priced      boolean     NOT NULL,
        catalog_revision_id bigint      REFERENCES catalog_revisions (id),
        catalog_revision    text,
        price_schedule_id   text        NOT NULL REFERENCES price_schedules (id),
        profile_count       integer     NOT NULL,
        idle                jsonb       NOT NULL DEFAULT '[]'::jsonb,
        unowned_services    text[]      NOT NULL DEFAULT '{}',
        CHECK (window_end > window_start)
      )`);
    await q(`
      CREATE TABLE cost_service_windows (
        window_start          timestamptz NOT NULL,
        service               text        NOT NULL,
        team                  text        NOT NULL,
        system                text,
        cpu_nanoseconds       bigint      NOT NULL,
        microdollars          bigint      NOT NULL,
        mode                  text        NOT NULL CHECK (mode IN ('measured', 'allocated')),
        default_priced        boolean     NOT NULL,
        price_ids             text[]      NOT NULL,
        profile_service_names text[]      NOT NULL,
        profile_digests       text[]      NOT NULL,
        PRIMARY KEY (window_start, service)
      ) PARTITION BY RANGE (window_start)`);
    await q(`
      CREATE TABLE cost_team_windows (
        window_start           timestamptz NOT NULL,
        team                   text        NOT NULL,
        kind                   text        NOT NULL CHECK (kind IN ('group', 'unowned', 'idle')),
        parent_team            text,
        own_microdollars       bigint      NOT NULL,
        rolled_up_microdollars bigint      NOT NULL,
        PRIMARY KEY (window_start, team)
      ) PARTITION BY RANGE (window_start)`);
    await q(`
      CREATE TABLE cost_label_windows (
        window_start timestamptz NOT NULL,
        service      text        NOT NULL,
        label_key    text        NOT NULL,
        label_value  text        NOT NULL,
        microdollars bigint      NOT NULL,
        PRIMARY KEY (window_start, service, label_key, label_value)
      ) PARTITION BY RANGE (window_start)`);
    await q(`
      CREATE TABLE cost_function_splits (
        window_start   timestamptz NOT NULL,
        service        text        NOT NULL,
        function_count integer     NOT NULL,
        self_microdollars bigint   NOT NULL,
        split          bytea       NOT NULL,
        PRIMARY KEY (window_start, service)
      ) PARTITION BY RANGE (window_start)`);
    await q(`
      CREATE TABLE cost_functions (
        id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text    NOT NULL,
        CONSTRAINT cost_functions_name_key UNIQUE (name)
      )`);
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
      CREATE TABLE cost_service_days (
        day             date    NOT NULL,
        service         text    NOT NULL,
        team            text    NOT NULL,
        cpu_nanoseconds bigint  NOT NULL,
        microdollars    bigint  NOT NULL,
        default_priced  boolean NOT NULL,
        windows         integer NOT NULL,
        PRIMARY KEY (day, service, team)
      )`);
    await q(`
      CREATE TABLE cost_team_days (
        day                    date    NOT NULL,
        team                   text    NOT NULL,
        kind                   text    NOT NULL,
        own_microdollars       bigint  NOT NULL,
        rolled_up_microdollars bigint  NOT NULL,
        PRIMARY KEY (day, team)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'cost_team_days',
      'cost_service_days',
      'cost_function_days',
      'cost_functions',
      'cost_function_splits',
      'cost_label_windows',
      'cost_team_windows',
      'cost_service_windows',
      'cost_windows',
      'price_schedules',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
    await queryRunner.query(`DROP VIEW catalog_current_teams`);
    await queryRunner.query(`DROP VIEW catalog_current_services`);
    await queryRunner.query(`DROP VIEW catalog_current_revision`);
    await queryRunner.query(`DROP TABLE catalog_services`);
    await queryRunner.query(`DROP TABLE catalog_teams`);
    await queryRunner.query(`DROP TABLE catalog_revisions`);
  }
}
