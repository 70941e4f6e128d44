import { createHash } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { CatalogRepository } from '../../src/catalog/catalog.repository';
import { AttributionRepository } from '../../src/cost/attribution.repository';
import { AttributionService } from '../../src/cost/attribution.service';
import { FunctionDayRepository } from '../../src/cost/function-day.repository';
import { FunctionDictionary } from '../../src/cost/function-dictionary';
import { mergeFolds, serializeFold } from '../../src/domain/profile';
import { decodeTree, encodeTree, treeFunctions } from '../../src/domain/profile/tree';
import { ProfileTreeRepository } from '../../src/profile-trees/profile-tree.repository';
import { ProfileTreeService } from '../../src/profile-trees/profile-tree.service';
import { JobsService } from '../../src/jobs/jobs.service';
import { ProfileRepository } from '../../src/profiles/profile.repository';
import { PushCompactionService } from '../../src/profiles/push-compaction.service';
import { startTestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';
import {
  attribute,
  demoProfiles,
  HOUR,
  LABEL_KEYS,
  loadExampleCatalog,
  SETTINGS,
  type DemoProfile,
} from '../cost/support';

const W06 = new Date('2026-11-21T06:00:00Z');
const W07 = new Date('2026-11-21T07:00:00Z');
const DAY = '2026-11-21';
const TREE_SETTINGS = { labels: { keys: LABEL_KEYS, maxValuesPerKey: 100 } };

let db: DataSource;
let demo: DemoProfile[];
let repo: ProfileTreeRepository;
let service: AttributionService;
let treeService: ProfileTreeService;

beforeAll(async () => {
  db = await testDataSource();
  demo = demoProfiles();
  repo = new ProfileTreeRepository(db);
  treeService = new ProfileTreeService(repo, new ProfileRepository(db), TREE_SETTINGS);
});

/** Attributes the window, then builds its trees as the `profile-trees` job does (from what attribution stored). */
async function attributeAndBuild(start: Date) {
  const result = await attribute(db, service, start);
  const trees = await db.transaction(async (tx) =>
    treeService.windowAttributed(
      tx,
      start,
      await new ProfileRepository(db).listWindowHeaders(start, tx),
      await new AttributionRepository().attributedServices(tx, start),
    ),
  );
  return { result, trees };
}

beforeEach(async () => {
  await truncateTables(db);
  await loadExampleCatalog(db);
  // A new service (and function dictionary) per test: the dictionary caches ids, and the truncation restarts them.
  service = new AttributionService(
    new ProfileRepository(db),
    new CatalogRepository(db),
    SETTINGS,
    new FunctionDictionary(db),
    new AttributionRepository(),
    new FunctionDayRepository(),
  );
});

/** Stores a real demo profile with its raw bytes (as a push with ingest.keepRaw does). */
async function store(p: DemoProfile, options: { start?: Date; salt?: string; keepRaw?: boolean } = {}): Promise<void> {
  const start = options.start ?? p.start;
  await new ProfileRepository(db).insert({
    source: 'push',
    service: p.service,
    profileType: 'cpu:nanoseconds',
    windowStart: start,
    windowEnd: new Date(start.getTime() + HOUR),
    digest: createHash('sha256')
      .update(p.bytes)
      .update(options.salt ?? '')
      .digest('hex'),
    seriesLabels: {},
    byteSize: p.bytes.length,
    sampleCount: p.fold.sampleCount,
    cpuNanoseconds: p.cpu,
    wallOnly: false,
    fold: serializeFold(p.fold),
    raw: options.keepRaw === false ? null : p.bytes,
  });
}

const inWindows = (windows: Date[]) => demo.filter((d) => windows.some((w) => w.getTime() === d.start.getTime()));

async function dumpTrees(): Promise<string[]> {
  const w = (await db.query(`SELECT t::text AS row FROM profile_window_trees t ORDER BY 1`)) as Array<{ row: string }>;
  const d = (await db.query(`SELECT t::text AS row FROM profile_day_trees t ORDER BY 1`)) as Array<{ row: string }>;
  return [...w, ...d].map((r) => r.row);
}

describe('profile trees per service-day, written when a window is attributed', () => {
  it('the day tree of each service has the per-function values of its merged folds, and its CPU time', async () => {
    for (const p of inWindows([W06, W07])) await store(p);
    await attributeAndBuild(W06);
    await attributeAndBuild(W07);
    const services = [...new Set(inWindows([W06, W07]).map((p) => p.service))];
    expect(services.length).toBeGreaterThan(3);
    for (const name of services) {
      const folds = inWindows([W06, W07]).filter((p) => p.service === name);
      const row = (await repo.dayTree(name, DAY))!;
      expect(row.windows).toBe(2);
      expect(row.missingRaw).toBe(0);
      const tree = decodeTree(row.tree);
      const merged = mergeFolds(folds.map((p) => p.fold));
      expect(tree.value).toBe(folds.reduce((s, p) => s + p.cpu, 0n));
      expect(row.cpuNanoseconds).toBe(tree.value);
      expect(treeFunctions(tree)).toEqual(merged.functions);
      const read = (await treeService.readTree(name, DAY, '2026-11-22'))!;
      expect(read.days).toBe(1);
      expect(encodeTree(read.tree)).toEqual(encodeTree(tree));
      expect(await treeService.readTree(name, '2026-11-22', '2026-11-23')).toBeNull();
      // One tree per version label value, each equal to the folds' slices of that version.
      const versions = await repo.dayVersions(name, DAY);
      const expected = [
        ...new Set(merged.slices!.map((s) => s.labels['version']).filter((v): v is string => v !== undefined)),
      ].sort();
      expect(versions).toEqual(expected);
      for (const v of versions) {
        const vt = decodeTree((await repo.dayTree(name, DAY, v))!.tree);
        expect(vt.value).toBe(
          merged.slices!.filter((s) => s.labels['version'] === v).reduce((sum, s) => sum + s.total, 0n),
        );
      }
    }
  });

  it('re-attributing a window changes nothing; a new profile in it changes its service-day exactly', async () => {
    for (const p of inWindows([W06, W07])) await store(p);
    await attributeAndBuild(W06);
    await attributeAndBuild(W07);
    const before = await dumpTrees();
    const again = await attributeAndBuild(W07);
    expect(again.trees.changedServices).toBe(0);
    expect(await dumpTrees()).toEqual(before);

    const extra = inWindows([W06]).find((p) => p.service === 'checkout')!;
    await store(extra, { start: W07, salt: 'second replica' });
    const dayBefore = decodeTree((await repo.dayTree('checkout', DAY))!.tree).value;
    await attributeAndBuild(W07);
    const after = (await repo.dayTree('checkout', DAY))!;
    expect(decodeTree(after.tree).value).toBe(dayBefore + extra.cpu);
    expect(after.profiles).toBe(3);
    const others = (await dumpTrees()).filter((r) => !r.includes('checkout'));
    expect(others).toEqual(before.filter((r) => !r.includes('checkout')));
  });

  it('reads a service tree over several days as the merge of its day trees', async () => {
    const p = inWindows([W06]).find((d) => d.service === 'checkout')!;
    const nextDay = new Date('2026-11-22T06:00:00Z');
    await store(p);
    await store(p, { start: nextDay });
    await attributeAndBuild(W06);
    await attributeAndBuild(nextDay);
    const read = (await treeService.readTree('checkout', DAY, '2026-11-23'))!;
    expect(read.days).toBe(2);
    expect(read.tree.value).toBe(2n * p.cpu);
    expect(treeFunctions(read.tree)).toEqual(
      new Map([...p.fold.functions].map(([n, v]) => [n, { flat: 2n * v.flat, cum: 2n * v.cum }])),
    );
  });

  it('a profile stored without raw bytes is counted as missing, not guessed', async () => {
    const [first, second] = inWindows([W06]).filter((p) => p.service === 'search');
    await store(first!);
    if (second) await store(second);
    const other = inWindows([W07]).find((p) => p.service === 'search')!;
    await store(other, { start: W06, keepRaw: false });
    await attributeAndBuild(W06);
    const row = (await repo.dayTree('search', DAY))!;
    expect(row.missingRaw).toBe(1);
    expect(decodeTree(row.tree).value).toBe(first!.cpu + (second?.cpu ?? 0n));
  });

  it("the application's profile-trees job builds the trees of the windows attribution stored, and only once", async () => {
    for (const p of inWindows([W06]).filter((d) => d.service === 'ledger')) await store(p);
    const app = await startTestApp({ settings: { labels: { keys: ['version'] } } });
    try {
      const attribution = app.app.get(AttributionService);
      await db.transaction((tx) =>
        attribution.attributeWindow({ start: W06, end: new Date(W06.getTime() + HOUR) }, tx),
      );
      expect(await repo.dayTree('ledger', DAY)).toBeNull(); // attribution itself builds no tree
      const jobs = app.app.get(JobsService);
      const range = { from: W06, to: new Date(W06.getTime() + HOUR) };
      expect(await jobs.run('profile-trees', range)).toMatchObject({
        status: 'succeeded',
        counts: { windows: 1, done: 1 },
      });
      const built = await dumpTrees();
      expect(await jobs.run('profile-trees', range)).toMatchObject({
        status: 'succeeded',
        counts: { windows: 1, done: 1 },
      });
      expect(await dumpTrees()).toEqual(built);
    } finally {
      await app.close();
    }
    expect((await repo.dayTree('ledger', DAY))?.windows).toBe(1);
    expect((await repo.dayVersions('ledger', DAY)).length).toBeGreaterThan(0);
  });

  it('retention drops trees older than N days', async () => {
    for (const p of inWindows([W06])) await store(p);
    await attributeAndBuild(W06);
    expect(await repo.deleteBefore(W06)).toEqual({ windows: 0, days: 0 });
    // A day partly inside the period is kept whole; its windows before the cut go.
    const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM profile_window_trees`)) as [{ n: number }];
    expect(n).toBeGreaterThan(0);
    // A day partly inside the retention period is kept whole; its windows before the cut go.
    expect(await repo.deleteBefore(W07)).toEqual({ windows: n, days: 0 });
    expect(await repo.dayTree('checkout', DAY)).not.toBeNull();
    const dropped = await repo.deleteBefore(new Date('2026-11-22T00:00:00Z'));
    expect(dropped).toEqual({ windows: 0, days: expect.any(Number) as number });
    expect(dropped.days).toBeGreaterThan(0);
    expect(await dumpTrees()).toEqual([]);
  });
});

describe('window trees from the merged trees compact-pushes keeps beside the push merges', () => {
  /** Every window and day tree row but the day rows' time of writing. */
  async function treeRows(): Promise<string[]> {
    const w = (await db.query(`SELECT t::text AS row FROM profile_window_trees t ORDER BY 1`)) as Array<{
      row: string;
    }>;
    const d = (await db.query(
      `SELECT (to_jsonb(t) - 'updated_at')::text AS row FROM profile_day_trees t ORDER BY 1`,
    )) as Array<{ row: string }>;
    return [...w, ...d].map((r) => r.row);
  }

  it('equal, byte for byte, the trees built from every push, and need no raw bytes of the pushes merged', async () => {
    const compaction = new PushCompactionService(new ProfileRepository(db), TREE_SETTINGS);
    const pushes = inWindows([W06, W07]);
    let n = 0;
    const pushSome = async (count: number) => {
      for (let i = 0; i < count; i++, n++) await store(pushes[n % pushes.length]!, { start: W06, salt: `push-${n}` });
    };
    await pushSome(9);
    await compaction.compactWindow(W06, { treeStep: 2 });
    await pushSome(7);
    await compaction.compactWindow(W06, { treeStep: 3 });
    await pushSome(4); // not compacted: the trees job builds these itself
    const merged = (await db.query(
      `SELECT count(DISTINCT group_key)::int AS groups, count(*) FILTER (WHERE version <> '')::int AS versions,
              sum(profile_count) FILTER (WHERE version = '')::int AS pushes
         FROM profile_push_merge_trees`,
    )) as Array<{ groups: number; versions: number; pushes: number }>;
    expect(merged[0]!.groups).toBeGreaterThan(1);
    expect(merged[0]!.versions).toBeGreaterThan(0); // 'version' is a label key: the merges are split by it
    expect(merged[0]!.pushes).toBe(16);

    // The golden trees: every push built from its raw bytes (no merged trees).
    await db.query(`CREATE TEMP TABLE kept_merge_trees AS SELECT * FROM profile_push_merge_trees`);
    await db.query(`DELETE FROM profile_push_merge_trees`);
    await attributeAndBuild(W06);
    const golden = await treeRows();
    expect(golden.length).toBeGreaterThan(4);

    // The same window from the merged trees plus the 4 pushes after them, the merged pushes' raw bytes gone.
    await db.query(`TRUNCATE profile_window_trees, profile_day_trees`);
    await db.query(`INSERT INTO profile_push_merge_trees SELECT * FROM kept_merge_trees`);
    await db.query(`DROP TABLE kept_merge_trees`);
    const dropped = (await db.query(
      `WITH d AS (
         UPDATE profiles p SET raw = NULL FROM profile_push_merge_trees t
          WHERE t.window_start = p.window_start AND t.version = '' AND p.id <= t.through_id
            AND t.group_key = jsonb_build_array(p.service, p.source, p.series_labels->>'cluster', p.series_labels->>'region', p.profile_type)::text
         RETURNING p.id)
       SELECT count(*)::int AS n FROM d`,
    )) as Array<{ n: number }>;
    expect(dropped[0]!.n).toBe(16);
    const { trees } = await attributeAndBuild(W06);
    expect(trees.missingRaw).toBe(0);
    expect(await treeRows()).toEqual(golden);
  });
});
