import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `profiles`: every stored profile, pushed or pulled, folded once (`fold`, the profile engine's serializeFold with
 * label slices) and kept raw until retention nulls `raw`. One row per (source, service, profile type, window,
 * digest): a retried push or a re-run pull never counts twice. Read by cost attribution.
 *
 * `dirty_windows`: windows whose profiles changed since they were last attributed; written in the same transaction
 * as the change, drained by the attribute job (see docs/ingest.md, "Re-attribution").
 */
export class CreateProfiles1795318728174 implements MigrationInterface {
  name = 'CreateProfiles1795318728174';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE profiles (
        id              bigserial   PRIMARY KEY,
        source          text        NOT NULL,
        service         text        NOT NULL,
        profile_type    text        NOT NULL,
        window_start    timestamptz NOT NULL,
        window_end      timestamptz NOT NULL,
        digest          text        NOT NULL,
        series_labels   jsonb       NOT NULL DEFAULT '{}'::jsonb,
        byte_size       integer     NOT NULL CHECK (byte_size >= 0),
        sample_count    integer     NOT NULL CHECK (sample_count >= 0),
        cpu_nanoseconds bigint,
        wall_only       boolean     NOT NULL DEFAULT false,
        fold            bytea       NOT NULL,
        raw             bytea,
        received_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT profiles_identity_key UNIQUE (source, service, profile_type, window_start, digest),
        CHECK (window_end > window_start)
      )`);
    await queryRunner.query(`CREATE INDEX profiles_window_start_idx ON profiles (window_start)`);
    await queryRunner.query(`CREATE INDEX profiles_service_window_start_idx ON profiles (service, window_start)`);
    await queryRunner.query(`
      CREATE TABLE dirty_windows (
        window_start timestamptz PRIMARY KEY,
        marked_at    timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE dirty_windows`);
    await queryRunner.query(`DROP TABLE profiles`);
  }
}
