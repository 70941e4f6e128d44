import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { createDataSource } from '../../src/database/data-source';
import { migrationStatus, runMigrations } from '../../src/database/migrations';
import { queryRows } from '../../src/database/query-rows';
import { inTransaction, withPgClient, withPgTransaction } from '../../src/database/transactions';
import { createEmptyDatabase, testDataSource, truncateTables } from '../support/database';

let db: DataSource;
const opened: DataSource[] = [];

async function open(url: string): Promise<DataSource> {
  const dataSource = await createDataSource({ url, poolSize: 2 }).initialize();
  opened.push(dataSource);
  return dataSource;
}

beforeAll(async () => {
  db = await testDataSource();
  await truncateTables(db);
});
afterAll(async () => {
  for (const dataSource of opened) await dataSource.destroy();
});

const migrationNames = MIGRATIONS.map((migration) => new migration().name);

describe('migrations', () => {
  it('are all applied to the test database by the global setup', async () => {
    const status = await migrationStatus(db);
    expect(status.pending).toEqual([]);
    expect(status.applied).toEqual(migrationNames);
  });

  it('have class names ending in their file timestamp, oldest first', () => {
    const stamps = migrationNames.map((name) => Number(/(\d{13})$/.exec(name ?? '')?.[1]));
    expect(stamps.every((stamp) => Number.isFinite(stamp))).toBe(true);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
  });

  it('count as pending on an empty database, apply once when two processes race, and undo cleanly', async () => {
    const url = await createEmptyDatabase('race');
    const [first, second] = [await open(url), await open(url)];
    expect((await migrationStatus(first)).pending).toEqual(migrationNames);
    const [appliedA, appliedB] = await Promise.all([runMigrations(first), runMigrations(second)]);
    expect([...appliedA, ...appliedB]).toEqual(migrationNames); // one applied all, the other found nothing to do
    expect((await migrationStatus(first)).pending).toEqual([]);
    for (let i = 0; i < migrationNames.length; i++) await first.undoLastMigration({ transaction: 'each' });
    const left = await queryRows<{ name: string }>(
      first,
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
    );
    expect(left).toEqual([]);
    expect(await runMigrations(first)).toEqual(migrationNames);
  });
});

describe('work_items', () => {
  it('keeps one item per (job, item_key) and requires a lease for running items', async () => {
    const insert = `INSERT INTO work_items (job, item_key, window_start, window_end, status, lease_owner, lease_until)
                    VALUES ('pull', $1, '2026-11-01T00:00Z', '2026-11-01T01:00Z', $2, $3, $4)`;
    await db.query(insert, ['checkout/2026-11-01T00', 'pending', null, null]);
    await expect(db.query(insert, ['checkout/2026-11-01T00', 'pending', null, null])).rejects.toThrow(
      /work_items_job_item_key_key/,
    );
    await expect(db.query(insert, ['cart/2026-11-01T00', 'running', null, null])).rejects.toThrow(/check constraint/);
    await db.query(insert, ['cart/2026-11-01T00', 'running', 'replica-1', new Date('2026-11-01T00:05Z')]);
  });
});

describe('transaction helpers', () => {
  it('inTransaction commits on success and rolls back on error', async () => {
    await inTransaction(db, (manager) => manager.query(`INSERT INTO job_runs (job, host) VALUES ('kept', 'h')`));
    await expect(
      inTransaction(db, async (manager) => {
        await manager.query(`INSERT INTO job_runs (job, host) VALUES ('lost', 'h')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const jobs = await queryRows<{ job: string }>(db, `SELECT job FROM job_runs WHERE job IN ('kept', 'lost')`);
    expect(jobs).toEqual([{ job: 'kept' }]);
  });

  it('withPgTransaction gives a raw pg client and rolls back on error', async () => {
    await expect(
      withPgTransaction(db, async (client) => {
        await client.query(`INSERT INTO job_runs (job, host) VALUES ('raw-lost', 'h')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const count = await withPgClient(
      db,
      async (client) => (await client.query(`SELECT count(*)::int AS n FROM job_runs WHERE job = 'raw-lost'`)).rows[0],
    );
    expect(count).toEqual({ n: 0 });
  });

  it('queryRows returns rows for UPDATE ... RETURNING, where TypeORM returns [rows, count]', async () => {
    await db.query(`INSERT INTO job_runs (job, host) VALUES ('upd', 'h')`);
    const raw: unknown = await db.query(`UPDATE job_runs SET host = 'h2' WHERE job = 'upd' RETURNING host`);
    expect(raw).toEqual([[{ host: 'h2' }], 1]);
    expect(await queryRows(db, `UPDATE job_runs SET host = 'h3' WHERE job = 'upd' RETURNING host`)).toEqual([
      { host: 'h3' },
    ]);
  });
});
