import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deserializeFold, foldProfile, serializeFold } from '../../src/domain/profile';
import { ProfileInsertBatcher } from '../../src/profiles/profile-insert.batcher';
import { ProfileStoreService, type ProfileToStore } from '../../src/profiles/profile-store.service';
import {
  ProfileRepository,
  WINDOW_LOCK_CLASS,
  windowLockKey,
  type InsertResult,
  type NewProfileRow,
} from '../../src/profiles/profile.repository';
import { testDataSource, truncateTables } from '../support/database';

/*
 * Group commit of pushes (ProfileInsertBatcher over ProfileRepository.insertMany) on a real PostgreSQL: the same
 * exactly-once answers, dirty marks and window-lock protocol as one INSERT per push, with fewer commits.
 */

const FIXTURES = join(__dirname, '..', 'fixtures', 'profiles');
const GO_CPU = readFileSync(join(FIXTURES, 'grafana-pyroscope/cpu.pprof'));
const FOLD = foldProfile(GO_CPU, { sampleType: 'cpu' });
const W1 = { start: new Date('2026-11-22T03:00:00Z'), end: new Date('2026-11-22T04:00:00Z') };
const W2 = { start: new Date('2026-11-22T04:00:00Z'), end: new Date('2026-11-22T05:00:00Z') };

/** The real repository, recording how many rows each statement carried. */
class RecordingRepository extends ProfileRepository {
  readonly statements: number[] = [];

  override insertMany(rows: readonly NewProfileRow[]): Promise<InsertResult[]> {
    this.statements.push(rows.length);
    return super.insertMany(rows);
  }
}

let db: DataSource;
let repo: RecordingRepository;

beforeAll(async () => {
  db = await testDataSource();
});
beforeEach(async () => {
  await truncateTables(db, ['profiles', 'dirty_windows']);
  repo = new RecordingRepository(db);
});

const profile = (digest: string, over: Partial<ProfileToStore> = {}): ProfileToStore => ({
  source: 'push',
  service: 'checkout',
  window: W1,
  digest,
  seriesLabels: { pod: digest },
  fold: FOLD,
  cpuNanoseconds: FOLD.total,
  wallOnly: false,
  raw: GO_CPU,
  ...over,
});
const row = (digest: string, over: Partial<NewProfileRow> = {}): NewProfileRow => ({
  source: 'push',
  service: 'checkout',
  profileType: 'cpu:nanoseconds',
  windowStart: W1.start,
  windowEnd: W1.end,
  digest,
  seriesLabels: { pod: digest },
  byteSize: GO_CPU.length,
  sampleCount: FOLD.sampleCount,
  cpuNanoseconds: FOLD.total,
  wallOnly: false,
  fold: serializeFold(FOLD),
  raw: GO_CPU,
  ...over,
});
const dirty = async (): Promise<string[]> =>
  ((await db.query('SELECT window_start FROM dirty_windows ORDER BY 1')) as Array<{ window_start: Date }>).map((r) =>
    r.window_start.toISOString(),
  );
const stored = async (): Promise<Array<{ id: string; digest: string; window: string }>> =>
  (
    (await db.query('SELECT id::text AS id, digest, window_start FROM profiles ORDER BY id')) as Array<{
      id: string;
      digest: string;
      window_start: Date;
    }>
  ).map((r) => ({
    id: r.id,
    digest: r.digest,
    window: r.window_start.toISOString(),
  }));

describe('ProfileRepository.insertMany', () => {
  it('stores a batch in one statement, answers in input order, and marks every window that received a row', async () => {
    const results = await repo.insertMany([row('b'), row('a', { windowStart: W2.start, windowEnd: W2.end }), row('c')]);
    const rows = await stored();
    expect(rows).toHaveLength(3);
    const idOf = (digest: string): string => rows.find((r) => r.digest === digest)!.id;
    expect(results).toEqual([
      { id: idOf('b'), duplicate: false },
      { id: idOf('a'), duplicate: false },
      { id: idOf('c'), duplicate: false },
    ]);
    expect(await dirty()).toEqual([W1.start.toISOString(), W2.start.toISOString()]);
    const [first] = await repo.listWindow(W1.start);
    expect(deserializeFold(first!.fold)).toEqual(FOLD);
    expect((await repo.rawBytesMany([first!.id])).get(first!.id)?.equals(GO_CPU)).toBe(true);
  });

  it('answers a row stored before, and a repeat within the batch, as duplicates with the stored id', async () => {
    const [before] = await repo.insertMany([row('old')]);
    await db.query('DELETE FROM dirty_windows');
    const results = await repo.insertMany([row('old'), row('new'), row('new')]);
    const newId = (await stored()).find((r) => r.digest === 'new')!.id;
    expect(results).toEqual([
      { id: before!.id, duplicate: true },
      { id: newId, duplicate: false },
      { id: newId, duplicate: true },
    ]);
    expect(await stored()).toHaveLength(2);
    expect(await dirty()).toEqual([W1.start.toISOString()]);
  });

  it('writes nothing and marks nothing when every row is a duplicate', async () => {
    await repo.insertMany([row('x'), row('y')]);
    await db.query('DELETE FROM dirty_windows');
    const results = await repo.insertMany([row('y'), row('x')]);
    expect(results.every((r) => r.duplicate)).toBe(true);
    expect(await dirty()).toEqual([]);
  });

  it('is all or nothing: a bad row fails the statement and nothing of it is stored', async () => {
    await expect(repo.insertMany([row('ok'), row('bad', { sampleCount: -1 })])).rejects.toThrow(/check constraint/);
    expect(await stored()).toEqual([]);
    expect(await dirty()).toEqual([]);
  });

  it('waits behind an attribution that clears the window exclusively, then marks that window again', async () => {
    await repo.insertMany([row('first')]);
    let inserted = false;
    const through = (await repo.committedHighWater(W1.start))!;
    const attribution = db.transaction(async (manager) => {
      // Attribution's last statement: the window's exclusive lock until commit.
      expect(await repo.clearDirtyIfUnchanged(manager, W1.start, through, 1)).toBe(true);
      const batch = repo
        .insertMany([row('late'), row('other-window', { windowStart: W2.start, windowEnd: W2.end })])
        .then(() => (inserted = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(inserted).toBe(false); // blocked on W1's lock, and W2's row waits with it (one statement)
      const seen = (await manager.query('SELECT digest FROM profiles ORDER BY digest')) as Array<{ digest: string }>;
      return { seen: seen.map((r) => r.digest), batch };
    });
    const { seen, batch } = await attribution;
    expect(seen).toEqual(['first']);
    await batch;
    expect(inserted).toBe(true);
    expect(await dirty()).toEqual([W1.start.toISOString(), W2.start.toISOString()]);
  });

  it('takes the shared window locks: an attribution that starts during the statement waits for its commit', async () => {
    // Hold W2's shared lock as a writer would, so the batch stays in flight while the attribution asks for W1.
    const holder = db.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query(`SELECT pg_advisory_xact_lock(${WINDOW_LOCK_CLASS}, $1::int)`, [windowLockKey(W2.start)]);
    const batch = repo.insertMany([row('w1'), row('w2', { windowStart: W2.start, windowEnd: W2.end })]);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the batch now holds W1 shared and waits for W2
    const locks = (await db.query(
      `SELECT objid::int AS key, mode, granted FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid ORDER BY objid, mode`,
      [WINDOW_LOCK_CLASS],
    )) as Array<{ key: number; mode: string; granted: boolean }>;
    expect(locks).toContainEqual({ key: windowLockKey(W1.start), mode: 'ShareLock', granted: true });
    expect(locks).toContainEqual({ key: windowLockKey(W2.start), mode: 'ShareLock', granted: false });
    let read = false;
    const attribution = (async () => {
      const through = (await repo.committedHighWater(W1.start))!; // waits for the batch's W1 write
      read = true;
      return db.transaction(async (manager) => {
        const window = await repo.listWindowForAttribution(W1.start, manager, through);
        await repo.clearDirtyIfUnchanged(manager, W1.start, through, window.rows);
        return ((await manager.query('SELECT digest FROM profiles ORDER BY digest')) as Array<{ digest: string }>).map(
          (r) => r.digest,
        );
      });
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(read).toBe(false);
    await holder.commitTransaction();
    await holder.release();
    await batch;
    expect(await attribution).toEqual(['w1', 'w2']);
    expect(await dirty()).toEqual([W2.start.toISOString()]);
  });
});

describe('ProfileInsertBatcher (group commit)', () => {
  it('commits concurrent stores together, each answered after its commit, exactly once per identity', async () => {
    const store = new ProfileStoreService(repo, { maxRows: 64, maxBytes: 64 * 1024 * 1024, writers: 1 });
    const digests = Array.from({ length: 24 }, (_, i) => `p${i}`);
    // p3 and p7 (stored in W2) again in W1: the same digest under another identity, so they are stored too.
    const all = [
      ...digests.map((d, i) => profile(d, { window: i % 2 === 0 ? W1 : W2 })),
      profile('p3', { window: W1 }),
      profile('p7', { window: W1 }),
    ];
    const results = await Promise.all(all.map((p) => store.store(p)));
    const rows = await stored();
    expect(rows).toHaveLength(26);
    expect(new Set(results.map((r) => r.id))).toEqual(new Set(rows.map((r) => r.id)));
    expect(results.every((r) => !r.duplicate)).toBe(true);
    expect(repo.statements.length).toBeLessThan(all.length);
    expect(Math.max(...repo.statements)).toBeGreaterThan(1);
    expect(await dirty()).toEqual([W1.start.toISOString(), W2.start.toISOString()]);
  });

  it('answers a retry that lands in the same batch as its original as a duplicate of it', async () => {
    const store = new ProfileStoreService(repo, { maxRows: 64, maxBytes: 64 * 1024 * 1024, writers: 1 });
    const [a, b, c] = await Promise.all([
      store.store(profile('same')),
      store.store(profile('same')),
      store.store(profile('other')),
    ]);
    expect(a).toEqual({ id: a!.id, duplicate: false });
    expect(b).toEqual({ id: a!.id, duplicate: true });
    expect(c!.duplicate).toBe(false);
    expect(await stored()).toHaveLength(2);
  });

  it('respects maxRows and maxBytes per statement', async () => {
    const rowBytes = serializeFold(FOLD).byteLength + GO_CPU.byteLength;
    const store = new ProfileStoreService(repo, { maxRows: 4, maxBytes: rowBytes * 3, writers: 1 });
    await Promise.all(Array.from({ length: 13 }, (_, i) => store.store(profile(`r${i}`))));
    expect(repo.statements.reduce((a, b) => a + b, 0)).toBe(13);
    expect(Math.max(...repo.statements)).toBeLessThanOrEqual(3);
    expect(await stored()).toHaveLength(13);
  });

  it('when a statement fails, retries its rows one by one so only the bad row fails', async () => {
    const batcher = new ProfileInsertBatcher((rows) => repo.insertMany(rows), {
      maxRows: 64,
      maxBytes: 64 * 1024 * 1024,
      writers: 1,
    });
    // Handed over in one event-loop turn, so they go in one statement.
    const settled = await Promise.allSettled(
      [row('good-1'), row('bad', { byteSize: -5 }), row('good-2'), row('good-3')].map((r) => batcher.insert(r)),
    );
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((settled[1] as PromiseRejectedResult).reason)).toMatch(/check constraint/);
    expect((await stored()).map((r) => r.digest).sort()).toEqual(['good-1', 'good-2', 'good-3']);
    expect(repo.statements).toEqual([4, 1, 1, 1, 1]);
  });

  it('sends a row that arrives while the writer is idle at once, alone', async () => {
    const store = new ProfileStoreService(repo, { maxRows: 64, maxBytes: 64 * 1024 * 1024, writers: 2 });
    await store.store(profile('solo'));
    await store.store(profile('solo-2'));
    expect(repo.statements).toEqual([1, 1]);
  });
});
