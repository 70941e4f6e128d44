import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Secrets the service makes for itself, shared by its replicas: the key that signs dashboard session cookies (so a
 * cookie one replica set is good at every other, and survives a restart).
 */
export class ServiceSecrets1796450000000 implements MigrationInterface {
  name = 'ServiceSecrets1796450000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE service_secrets (name text PRIMARY KEY, secret bytea NOT NULL CHECK (octet_length(secret) >= 32), created_at timestamptz NOT NULL DEFAULT now())`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE service_secrets`);
  }
}
