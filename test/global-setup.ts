import { mkdtemp, chmod, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDataSource } from '../src/database/data-source';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/database/embedded/embedded-postgres';
import { runMigrations } from '../src/database/migrations';
import { queryOnce } from '../src/database/query-once';
import { withDatabase, type TestDatabaseInfo } from './support/provided';

/**
 * Once per `vitest run`: creates a fresh database for this run (on DATABASE_URL's server when set,
 * otherwise on an embedded PostgreSQL in a temporary directory), applies the real migrations to it
 * once, and provides it to the test files, each of which works on its own copy (test/support/database.ts).
 * Teardown drops every database of the run and stops the embedded server.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const server = await openServer();
  const templateName = `flamebill_test_${process.pid}_${Date.now()}`;
  await queryOnce(server.adminUrl, `CREATE DATABASE ${templateName}`);
  const dataSource = createDataSource({
    url: withDatabase(server.adminUrl, templateName),
    poolSize: 2,
    applicationName: 'flamebill-test-setup',
  });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
  const info: TestDatabaseInfo = { adminUrl: server.adminUrl, templateName, server: server.kind };
  project.provide('testDatabase', info);
  process.stderr.write(`test database ${templateName} on ${server.kind} ready in ${Date.now() - started} ms\n`);
  return async () => {
    const rows = await queryOnce(server.adminUrl, 'SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${templateName}%`,
    ]);
    for (const { datname } of rows)
      await queryOnce(server.adminUrl, `DROP DATABASE IF EXISTS ${String(datname)} WITH (FORCE)`);
    await server.stop();
  };
}

interface Server {
  readonly kind: TestDatabaseInfo['server'];
  readonly adminUrl: string;
  stop(): Promise<void>;
}

async function openServer(): Promise<Server> {
  const configured = process.env.DATABASE_URL?.trim();
  if (configured) return { kind: 'DATABASE_URL', adminUrl: configured, stop: async () => undefined };
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flamebill-test-pg-'));
  await chmod(dataDir, 0o755); // as root, the server runs as `postgres`, which must enter this directory
  let embedded: EmbeddedPostgres;
  try {
    embedded = await startEmbeddedPostgres({ dataDir, role: 'cli' });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    kind: 'embedded',
    adminUrl: embedded.url,
    stop: async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
