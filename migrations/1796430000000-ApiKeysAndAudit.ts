import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The finance API's own tables (docs/api.md).
 *
 * - `api_keys`: one row per key ever created. Only the SHA-256 of the key is stored (the key is 32 random bytes, so
 *   a fast hash is enough: nothing to brute-force), with its scopes; a revoked key keeps its row (the audit log
 *   names it). A name is unique among active keys, so a revoked name can be reused.
 * - `api_audit`: one row per export or admin call, answered or refused, with the key that made it.
 */
export class ApiKeysAndAudit1796430000000 implements MigrationInterface {
  name = 'ApiKeysAndAudit1796430000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id           bigserial   PRIMARY KEY,
        name         text        NOT NULL,
        key_hash     text        NOT NULL UNIQUE,
        key_prefix   text        NOT NULL,
        scopes       text[]      NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        revoked_at   timestamptz,
        last_used_at timestamptz
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE api_audit (
        id         bigserial   PRIMARY KEY,
        at         timestamptz NOT NULL DEFAULT now(),
        key_id     bigint      REFERENCES api_keys (id),
        key_name   text,
        scope      text        NOT NULL,
        method     text        NOT NULL,
        path       text        NOT NULL,
        query      text        NOT NULL,
        status     integer     NOT NULL,
        request_id text
      )`);
    await queryRunner.query(`CREATE INDEX api_audit_at ON api_audit (at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE api_audit`);
    await queryRunner.query(`DROP TABLE api_keys`);
  }
}
