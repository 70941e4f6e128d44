import { inject } from 'vitest';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/database/data-source';
import { MIGRATIONS_TABLE } from '../../src/database/data-source';
import { queryOnce } from '../../src/database/query-once';
import { withDatabase } from './provided';

let databaseUrl: Promise<string> | null = null;
let dataSource: Promise<DataSource> | null = null;

/**
 * The URL of this test file's own database: a copy of the run's migrated template, made on first use
 * (so test files running in parallel never see each other's rows).
 */
export function testDatabaseUrl(): Promise<string> {
  databaseUrl ??= createFileDatabase();
  return databaseUrl;
}

/** A connected DataSource on this test file's database (shared within the file). */
export function testDataSource(): Promise<DataSource> {
  dataSource ??= testDatabaseUrl().then((url) =>
    createDataSource({ url, poolSize: 4, applicationName: 'flamebill-test' }).initialize(),
  );
  return dataSource;
}

/** Empties every table except the migrations bookkeeping and resets sequences; call in `beforeEach`. */
export async function truncateTables(db: DataSource, tables?: readonly string[]): Promise<void> {
  const names =
    tables ??
    (
      (await db.query(
        `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> $1`,
        [MIGRATIONS_TABLE],
      )) as Array<{ name: string }>
    ).map((row) => row.name);
  if (names.length > 0) await db.query(`TRUNCATE ${names.join(', ')} RESTART IDENTITY CASCADE`);
}

/** Creates an empty database (no migrations) on the test server and returns its URL; dropped at teardown. */
export async function createEmptyDatabase(suffix: string): Promise<string> {
  const { adminUrl, templateName } = inject('testDatabase');
  const name = `${templateName}_${suffix}_${process.pid}`;
  await queryOnce(adminUrl, `CREATE DATABASE ${name}`);
  return withDatabase(adminUrl, name);
}

async function createFileDatabase(): Promise<string> {
  const { adminUrl, templateName } = inject('testDatabase');
  const name = `${templateName}_f${process.pid}`;
  await queryOnce(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  // Copying a template fails while another session is connected to it; global setup closes its own.
  for (let attempt = 1; ; attempt++) {
    try {
      await queryOnce(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${templateName}`);
      break;
    } catch (error) {
      if (attempt >= 5 || !/being accessed by other users/.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
  return withDatabase(adminUrl, name);
}
