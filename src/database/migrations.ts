import type { DataSource } from 'typeorm';
import { MIGRATIONS_TABLE } from './data-source';

/** Any constant shared by every flamebill process: replicas starting together migrate one at a time. */
const MIGRATION_LOCK_KEY = 0x666c_616d; // "flam"

/**
 * Applies pending migrations, each in its own transaction, while holding a PostgreSQL advisory lock
 * (TypeORM takes none, and N replicas may start at once).
 * @returns the names of the migrations applied now, oldest first.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    await lockRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((migration) => migration.name);
    } finally {
      await lockRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lockRunner.release();
  }
}

/** Which of the migrations this build knows are applied in the database. */
export interface MigrationStatus {
  readonly expected: readonly string[];
  readonly applied: readonly string[];
  readonly pending: readonly string[];
}

/** Reads the migrations table without creating it (a database never migrated has every migration pending). */
export async function migrationStatus(dataSource: DataSource): Promise<MigrationStatus> {
  const expected = dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name);
  const [table] = (await dataSource.query('SELECT to_regclass($1) AS oid', [MIGRATIONS_TABLE])) as Array<{
    oid: string | null;
  }>;
  const rows: Array<{ name: string }> = table?.oid
    ? await dataSource.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`)
    : [];
  const applied = rows.map((row) => row.name);
  const appliedSet = new Set(applied);
  return { expected, applied, pending: expected.filter((name) => !appliedSet.has(name)) };
}
