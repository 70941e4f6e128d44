import type { DataSource } from 'typeorm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AttributionService } from '../../src/cost/attribution.service';
import { createHash } from 'node:crypto';
import { serializeFold } from '../../src/domain/profile';
import { ProfileRepository, WINDOW_LOCK_CLASS, windowLockKey } from '../../src/profiles/profile.repository';
import { PushCompactionService } from '../../src/profiles/push-compaction.service';
import { declaredJobs } from '../../src/jobs/job.decorator';
import { JobsService } from '../../src/jobs/jobs.service';
import { startTestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';
import {
  attribute,
  attributionService,
  demoProfiles,
  loadExampleCatalog,
  HOUR,
  SETTINGS,
  storeProfile,
  type DemoProfile,
} from './support';

const W = new Date('2026-11-21T06:00:00Z');

/**
 * Pushes compacted per window: after an attribution the pushes of a group are one merge, and the next attribution
 * reads that merge and the pushes that came after it. The facts must be exactly those of reading every push.
 */
describe('pushes compacted per window', () => {
  let db: DataSource;
  let service: AttributionService;
  let checkout: DemoProfile[];

  beforeAll(async () => {
    db = await testDataSource();
    service = attributionService(db);
    checkout = demoProfiles(['checkout', 'ledger']);
  });
  beforeEach(async () => {
    await truncateTables(db);
    await loadExampleCatalog(db);
  });

  /** Every fact row of the window and its day, as text: what the books, the API and the email read. */
  async function facts(): Promise<string[]> {
    const out: string[] = [];
    for (const [table, order] of [
      ['cost_windows', 'window_start'],
      ['cost_service_windows', 'service'],
      ['cost_team_windows', 'team'],
      ['cost_label_windows', 'service, label_key, label_value'],
      ['cost_function_splits', 'service'],
      ['cost_service_days', 'service'],
    ] as const) {
      const rows = (await db.query(`SELECT * FROM ${table} ORDER BY ${order}`)) as unknown[];
      out.push(...rows.map((r) => `${table} ${JSON.stringify(r)}`));
    }
    return out;
  }

  async function push(n: number, offset = 0): Promise<void> {
    for (let i = 0; i < n; i++) {
      const p = checkout[(offset + i) % checkout.length]!;
      await storeProfile(db, p, { start: W, source: 'push', salt: `push-${offset + i}` });
    }
  }

  it('attributes a window of many pushes as one merge plus what came after, with the facts of reading every push', async () => {
    await push(40);
    await attribute(db, service, W);
    const [merge] = (await db.query(
      `SELECT service, profile_count, through_id::text FROM profile_push_merges ORDER BY service`,
    )) as Array<{ profile_count: number }>;
    expect(merge).toMatchObject({ profile_count: expect.any(Number) });
    const merged = (await db.query(`SELECT sum(profile_count)::int AS n FROM profile_push_merges`)) as Array<{
      n: number;
    }>;
    expect(merged[0]!.n).toBe(40);

    await push(10, 40);
    const read = await readForAttribution();
    expect(read.profiles).toHaveLength(10); // only the pushes after the merges are read one by one
    expect(read.merges.reduce((n, m) => n + m.profileCount, 0)).toBe(40);
    await attribute(db, service, W);
    const compacted = await facts();
    expect((await db.query(`SELECT sum(profile_count)::int AS n FROM profile_push_merges`)) as unknown[]).toEqual([
      { n: 50 },
    ]);

    // The same window read push by push (no merges) gives exactly the same facts, and again after that.
    await db.query(`DELETE FROM profile_push_merges`);
    await attribute(db, service, W);
    expect(await facts()).toEqual(compacted);
    await attribute(db, service, W);
    expect(await facts()).toEqual(compacted);
    const [window] = (await db.query(`SELECT profile_count FROM cost_windows`)) as Array<{ profile_count: number }>;
    expect(window!.profile_count).toBe(50);
  });

  it('a lone push stays a row and keeps its own digest as provenance', async () => {
    await push(1);
    await attribute(db, service, W);
    expect(await db.query(`SELECT count(*)::int AS n FROM profile_push_merges`)).toEqual([{ n: 0 }]);
    const [row] = (await db.query(`SELECT profile_digests FROM cost_service_windows`)) as Array<{
      profile_digests: string[];
    }>;
    expect(row!.profile_digests).toHaveLength(1);
    expect(row!.profile_digests[0]).toMatch(/^[0-9a-f]{64}$/);
  });

  /** What attribution reads of the window, up to what has committed. */
  async function readForAttribution() {
    const repo = new ProfileRepository(db);
    const through = (await repo.committedHighWater(W)) ?? '0';
    return db.transaction((tx) => repo.listWindowForAttribution(W, tx, through));
  }

  /** Total pushes in the window's merges, and how many pushes attribution would still read one by one. */
  async function mergedAndLeft(): Promise<{ merged: number; left: number }> {
    const read = await readForAttribution();
    return { merged: read.merges.reduce((n, m) => n + m.profileCount, 0), left: read.profiles.length };
  }

  /** The facts of attributing every push of the window one by one (no merge), leaving no merge behind either. */
  async function factsOfEveryPush(): Promise<string[]> {
    await db.query(`DELETE FROM profile_push_merges`);
    await attribute(db, service, W);
    const out = await facts();
    await db.query(`DELETE FROM profile_push_merges`);
    return out;
  }

  it('compact-pushes merges the pushes as they arrive; attribution then reads almost nothing and stores the same facts', async () => {
    const compaction = new PushCompactionService(new ProfileRepository(db), SETTINGS);
    await push(1);
    expect(await compaction.compactWindow(W)).toEqual({ groups: 0, pushes: 0, raced: 0, treePushes: 0 }); // a lone push stays a row
    let pushed = 1;
    for (const n of [6, 1, 13, 2]) {
      await push(n, pushed);
      pushed += n;
      await compaction.compactWindow(W, { step: 4 }); // several guarded steps per group
    }
    expect(await mergedAndLeft()).toEqual({ merged: 23, left: 0 });
    const mergesByCompaction = await db.query(`SELECT * FROM profile_push_merges ORDER BY group_key`);
    expect(await compaction.compactWindow(W)).toEqual({ groups: 0, pushes: 0, raced: 0, treePushes: 0 }); // idempotent
    await push(3, pushed);
    expect(await mergedAndLeft()).toEqual({ merged: 23, left: 3 });
    await attribute(db, service, W);
    const compacted = await facts();

    // Byte-identical to attributing every push one by one, and compaction's merges byte-identical to attribution's.
    await db.query(`DELETE FROM profile_push_merges`);
    await db.query(`DELETE FROM profiles WHERE id IN (SELECT id FROM profiles ORDER BY id DESC LIMIT 3)`);
    await attribute(db, service, W);
    expect(await db.query(`SELECT * FROM profile_push_merges ORDER BY group_key`)).toEqual(mergesByCompaction);
    await push(3, pushed);
    expect(await factsOfEveryPush()).toEqual(compacted);
    const [window] = (await db.query(`SELECT profile_count FROM cost_windows`)) as Array<{ profile_count: number }>;
    expect(window!.profile_count).toBe(26);
  });

  it('a push that commits after a higher id is waited for, never skipped; one that commits during compaction stays a row', async () => {
    await push(5);
    // A push whose transaction took its id first and commits last (as pushes racing through the pool can).
    const slow = db.createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    const p = checkout[0]!;
    await slow.query(`SELECT pg_advisory_xact_lock_shared(${WINDOW_LOCK_CLASS}, $1::int)`, [windowLockKey(W)]);
    await slow.query(
      `INSERT INTO profiles (source, service, profile_type, window_start, window_end, digest, series_labels, byte_size,
                             sample_count, cpu_nanoseconds, wall_only, fold)
       VALUES ('push', $1, 'cpu:nanoseconds', $2, $3, $4, '{}'::jsonb, $5, $6, $7::bigint, false, $8)`,
      [
        p.service,
        W,
        new Date(W.getTime() + HOUR),
        createHash('sha256').update('slow push').digest('hex'),
        p.bytes.length,
        p.fold.sampleCount,
        p.cpu.toString(),
        Buffer.from(serializeFold(p.fold)),
      ],
    );
    await push(4, 5); // higher ids, committed before it (pushes take the window's lock shared: they do not wait)
    let finished = false;
    // A push that commits while compaction merges (after it read how far pushes had committed) is left for later.
    const during = new (class extends ProfileRepository {
      override async pushGroupsBehind(windowStart: Date, throughId: string, of: 'folds' | 'trees' = 'folds') {
        if (of === 'folds') await push(2, 9);
        return super.pushGroupsBehind(windowStart, throughId, of);
      }
    })(db);
    const running = new PushCompactionService(during, SETTINGS).compactWindow(W).then((r) => {
      finished = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(finished).toBe(false); // it waits for the slow push rather than merge past its id
    await slow.commitTransaction();
    await slow.release();
    const result = await running;
    expect(result.pushes).toBe(10); // all 10, the slow one included, and not the 2 that came during
    expect(await mergedAndLeft()).toEqual({ merged: 10, left: 2 });
    await attribute(db, service, W);
    const compacted = await facts();
    expect(await factsOfEveryPush()).toEqual(compacted);
    const [window] = (await db.query(`SELECT profile_count FROM cost_windows`)) as Array<{ profile_count: number }>;
    expect(window!.profile_count).toBe(12);
  });

  it('two replicas compacting at once, and attribution in between, merge every push exactly once', async () => {
    const repo = new ProfileRepository(db);
    const a = new PushCompactionService(repo, SETTINGS);
    const b = new PushCompactionService(new ProfileRepository(db), SETTINGS);
    await push(30);
    const [x, y] = await Promise.all([a.compactWindow(W, { step: 3 }), b.compactWindow(W, { step: 3 })]);
    expect(x.pushes + y.pushes).toBe(30); // they take turns: the second finds the first's merge, nothing is redone
    expect(await mergedAndLeft()).toEqual({ merged: 30, left: 0 });

    // A merge moved by attribution after compaction read it is not overwritten by compaction's older view.
    await push(5, 30);
    const stale = (await repo.pushMerge(W, (await repo.pushGroupsBehind(W, '999999999'))[0]!.groupKey))!;
    await attribute(db, service, W);
    expect(await repo.replacePushMerge({ ...stale, profileCount: 99 }, stale.throughId)).toBe(false);
    expect(await mergedAndLeft()).toEqual({ merged: 35, left: 0 });
    const compacted = await facts();
    expect(await factsOfEveryPush()).toEqual(compacted);
  });

  it("the application's compact-pushes job merges the pushes of the dirty windows (and their trees), every 30 s by default", async () => {
    await push(12);
    const app = await startTestApp();
    try {
      const jobs = app.app.get(JobsService);
      expect(await jobs.run('compact-pushes')).toMatchObject({ status: 'succeeded', counts: { windows: 1, done: 1 } });
      expect(await mergedAndLeft()).toEqual({ merged: 12, left: 0 });
      const trees = (await db.query(
        `SELECT sum(profile_count)::int AS n FROM profile_push_merge_trees WHERE version = ''`,
      )) as Array<{ n: number }>;
      expect(trees[0]!.n).toBe(12); // stored without raw bytes: counted as missing, not skipped
      expect(await jobs.run('compact-pushes')).toMatchObject({ status: 'succeeded', counts: { windows: 1, done: 1 } });
      expect(await mergedAndLeft()).toEqual({ merged: 12, left: 0 });
    } finally {
      await app.close();
    }
    expect(declaredJobs().find((j) => j.name === 'compact-pushes')?.defaultSchedule).toBe('*/30 * * * * *');
  });
});
