import { mkdtemp, chmod, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/database/data-source';
import { startEmbeddedPostgres } from '../../src/database/embedded/embedded-postgres';
import { runMigrations } from '../../src/database/migrations';
import { queryOnce } from '../../src/database/query-once';

/** A fresh database on DATABASE_URL's server, or an embedded PostgreSQL in a temporary directory. */
export async function benchDatabase(): Promise<{ url: string; stop: () => Promise<void> }> {
  const configured = process.env['DATABASE_URL']?.trim();
  const dataDir = configured ? null : await mkdtemp(path.join(os.tmpdir(), 'flamebill-bench-pg-'));
  if (dataDir) await chmod(dataDir, 0o755);
  const server = configured ? null : await startEmbeddedPostgres({ dataDir: dataDir as string, role: 'cli' });
  const adminUrl = configured ?? (server as { url: string }).url;
  const name = `flamebill_bench_${process.pid}`;
  await queryOnce(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    stop: async () => {
      // FLAMEBILL_BENCH_KEEP=1 leaves the database on DATABASE_URL's server for EXPLAIN (drop it by hand after).
      if (configured && process.env['FLAMEBILL_BENCH_KEEP'] === '1') {
        process.stdout.write(`kept database ${url.toString()}\n`);
        return;
      }
      await queryOnce(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await server?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** `benchDatabase`, connected and migrated: what the benches over the real schema start from. */
export async function migratedBenchDatabase(
  poolSize = 4,
): Promise<{ db: DataSource; url: string; close: () => Promise<void> }> {
  const { url, stop } = await benchDatabase();
  const db = await createDataSource({
    url,
    poolSize,
    applicationName: 'flamebill-bench',
    slowQueryMs: 3_600_000,
  }).initialize();
  await runMigrations(db);
  return {
    db,
    url,
    close: async () => {
      await db.destroy();
      await stop();
    },
  };
}

/** A database a bench filled and kept (FLAMEBILL_BENCH_KEEP=1), connected and migrated, to measure again. */
export async function reusedBenchDatabase(
  url: string,
): Promise<{ db: DataSource; url: string; close: () => Promise<void> }> {
  const db = await createDataSource({
    url,
    poolSize: 4,
    applicationName: 'flamebill-bench',
    slowQueryMs: 3_600_000,
  }).initialize();
  await runMigrations(db);
  return { db, url, close: () => db.destroy() };
}
