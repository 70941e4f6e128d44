import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deserializeFold, foldProfile } from '../../src/domain/profile';
import { ProfileStoreService, type ProfileToStore } from '../../src/profiles/profile-store.service';
import { ProfileRepository, WINDOW_LOCK_CLASS, windowLockKey } from '../../src/profiles/profile.repository';
import { testDataSource, truncateTables } from '../support/database';

const FIXTURES = join(__dirname, '..', 'fixtures', 'profiles');
const GO_CPU = readFileSync(join(FIXTURES, 'grafana-pyroscope/cpu.pprof'));
const FOLD = foldProfile(GO_CPU, { sampleType: 'cpu' });
const W1 = { start: new Date('2026-11-22T03:00:00Z'), end: new Date('2026-11-22T04:00:00Z') };
const W2 = { start: new Date('2026-11-22T04:00:00Z'), end: new Date('2026-11-22T05:00:00Z') };

let db: DataSource;
let repo: ProfileRepository;
let store: ProfileStoreService;

beforeAll(async () => {
  db = await testDataSource();
  repo = new ProfileRepository(db);
  store = new ProfileStoreService(repo);
});
beforeEach(() => truncateTables(db, ['profiles', 'dirty_windows']));
afterAll(async () => undefined);

const profile = (over: Partial<ProfileToStore> = {}): ProfileToStore => ({
  source: 'push',
  service: 'checkout',
  window: W1,
  digest: 'd1',
  seriesLabels: { env: 'prod' },
  fold: FOLD,
  cpuNanoseconds: FOLD.total,
  wallOnly: false,
  raw: GO_CPU,
  ...over,
});
const dirty = async (): Promise<string[]> =>
  ((await db.query('SELECT window_start FROM dirty_windows ORDER BY 1')) as Array<{ window_start: Date }>).map((r) =>
    r.window_start.toISOString(),
  );

describe('ProfileRepository', () => {
  it('inserts once per identity and reports duplicates with the first id', async () => {
    const a = await store.store(profile());
    const b = await store.store(profile());
    const c = await store.store(profile({ digest: 'd2' }));
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ id: a.id, duplicate: true });
    expect(c.duplicate).toBe(false);
    const [row] = await repo.listWindow(W1.start);
    expect(row).toMatchObject({
      source: 'push',
      service: 'checkout',
      profileType: 'cpu:nanoseconds',
      digest: 'd1',
      seriesLabels: { env: 'prod' },
      byteSize: GO_CPU.length,
      sampleCount: FOLD.sampleCount,
      cpuNanoseconds: 470_000_000n,
      wallOnly: false,
    });
    expect(deserializeFold(row!.fold)).toEqual(FOLD);
    expect((await repo.rawBytesMany([row!.id])).get(row!.id)?.equals(GO_CPU)).toBe(true);
    expect(await dirty()).toEqual([W1.start.toISOString()]);
  });

  it('replaceSourceWindow replaces a pull window in one transaction, and is a no-op for the same digests', async () => {
    const pull = (digest: string) => profile({ source: 'pyro', digest, raw: null, byteSize: 123 });
    await store.store(profile()); // a push in the same window stays
    const first = await store.replaceWindow('pyro', 'checkout', 'cpu:nanoseconds', W1, [pull('a'), pull('b')]);
    expect(first).toEqual({ deleted: 0, inserted: 2, unchanged: false });
    await db.query('DELETE FROM dirty_windows');
    const again = await store.replaceWindow('pyro', 'checkout', 'cpu:nanoseconds', W1, [pull('b'), pull('a')]);
    expect(again).toEqual({ deleted: 0, inserted: 0, unchanged: true });
    expect(await dirty()).toEqual([]);
    const changed = await store.replaceWindow('pyro', 'checkout', 'cpu:nanoseconds', W1, [pull('c')]);
    expect(changed).toEqual({ deleted: 2, inserted: 1, unchanged: false });
    expect(await dirty()).toEqual([W1.start.toISOString()]);
    const rows = await repo.listWindow(W1.start);
    expect(rows.map((r) => `${r.source}/${r.digest}/${r.byteSize}`)).toEqual([
      'push/d1/' + GO_CPU.length,
      'pyro/c/123',
    ]);
  });

  it('replaceSourceWindow refuses rows of another key and rolls back', async () => {
    await expect(
      store.replaceWindow('pyro', 'checkout', 'cpu:nanoseconds', W1, [profile({ source: 'pyro', window: W2 })]),
    ).rejects.toThrow(/got a row of pyro\/checkout/);
    expect(await repo.listWindow(W2.start)).toEqual([]);
  });

  it('committedHighWater waits for a write in flight into that window; a read up to it then sees the write', async () => {
    await store.store(profile());
    // A writer holds the window's shared lock (as an INSERT in flight does) while attribution reads how far to read.
    const writer = await db.createQueryRunner();
    await writer.connect();
    await writer.startTransaction();
    await writer.query(`SELECT pg_advisory_xact_lock_shared(${WINDOW_LOCK_CLASS}, $1::int)`, [windowLockKey(W1.start)]);
    await writer.query(
      `INSERT INTO profiles (source, service, profile_type, window_start, window_end, digest, byte_size, sample_count, cpu_nanoseconds, fold)
       VALUES ('push', 'checkout', 'cpu:nanoseconds', $1, $2, 'late', 0, 0, 5, '\\x00')`,
      [W1.start, W1.end],
    );
    let read = false;
    const attribution = (async () => {
      const through = (await repo.committedHighWater(W1.start))!;
      read = true;
      return db.transaction(async (manager) => {
        const window = await repo.listWindowForAttribution(W1.start, manager, through);
        const cleared = await repo.clearDirtyIfUnchanged(manager, W1.start, through, window.rows);
        return { rows: window.rows, seen: window.profiles.map((p) => p.digest).sort(), cleared };
      });
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(read).toBe(false); // blocked behind the writer
    await writer.commitTransaction();
    await writer.release();
    expect(await attribution).toEqual({ rows: 2, seen: ['d1', 'late'], cleared: true });
    expect(await dirty()).toEqual([]);
  });

  it('clearDirtyIfUnchanged keeps the mark when a write came after what was read, a row was deleted or replaced', async () => {
    await store.store(profile());
    await store.store(profile({ digest: 'd2' }));
    const clear = async (change: () => Promise<unknown>) => {
      const through = (await repo.committedHighWater(W1.start))!;
      return db.transaction(async (manager) => {
        const window = await repo.listWindowForAttribution(W1.start, manager, through);
        await change(); // another connection writes while the window is attributed
        return repo.clearDirtyIfUnchanged(manager, W1.start, through, window.rows);
      });
    };
    expect(await clear(() => store.store(profile({ digest: 'd3' })))).toBe(false); // a later push
    expect(await dirty()).toEqual([W1.start.toISOString()]);
    expect(await clear(() => db.query(`DELETE FROM profiles WHERE digest = 'd2'`))).toBe(false); // a row gone
    expect(await dirty()).toEqual([W1.start.toISOString()]);
    // A row replaced by a later one (as a pull's re-fetch does): the same count, but a row above what was read.
    expect(
      await clear(async () => {
        await db.query(`DELETE FROM profiles WHERE digest = 'd3'`);
        await store.store(profile({ digest: 'd4' }));
      }),
    ).toBe(false);
    expect(await dirty()).toEqual([W1.start.toISOString()]);
    expect(await clear(async () => undefined)).toBe(true); // nothing since: cleared
    expect(await dirty()).toEqual([]);
  });

  it('a push after the mark was cleared marks the window again', async () => {
    await store.store(profile());
    const through = (await repo.committedHighWater(W1.start))!;
    await db.transaction(async (manager) =>
      repo.clearDirtyIfUnchanged(
        manager,
        W1.start,
        through,
        (await repo.listWindowForAttribution(W1.start, manager, through)).rows,
      ),
    );
    expect(await dirty()).toEqual([]);
    await store.store(profile({ digest: 'd9' }));
    expect(await dirty()).toEqual([W1.start.toISOString()]);
    await store.store(profile({ digest: 'd9' })); // a duplicate changes nothing
    expect((await repo.listDirtyWindows()).map((w) => w.windowStart.toISOString())).toEqual([W1.start.toISOString()]);
  });
});
