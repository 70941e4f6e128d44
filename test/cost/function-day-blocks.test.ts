import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { FunctionDayBlocks1795322317881 } from '../../migrations/1795322317881-FunctionDayBlocks';
import { FunctionDayBlockParts1796510000000 } from '../../migrations/1796510000000-FunctionDayBlockParts';
import { CostQueryRepository } from '../../src/cost/cost-query.repository';
import { FunctionDayState, type DayBlock } from '../../src/cost/function-day-state';
import { BLOCK_PART_ENTRIES, FunctionDayRepository } from '../../src/cost/function-day.repository';
import { testDataSource, truncateTables } from '../support/database';
import {
  attribute,
  attributionService,
  demoProfiles,
  dumpFacts,
  loadExampleCatalog,
  storeProfile,
  type DemoProfile,
} from './support';

const W06 = new Date('2026-11-21T06:00:00Z');
const W07 = new Date('2026-11-21T07:00:00Z');

let db: DataSource;
let demo: DemoProfile[];

beforeAll(async () => {
  db = await testDataSource();
  demo = demoProfiles();
});

beforeEach(async () => {
  await truncateTables(db);
  await loadExampleCatalog(db);
});

async function rows(sql: string): Promise<string[]> {
  return ((await db.query(`SELECT t::text AS row FROM (${sql}) t ORDER BY 1`)) as Array<{ row: string }>).map(
    (r) => r.row,
  );
}

const TOPS = `SELECT day, board, rank, service_id, function_id, self_microdollars, cum_microdollars, services FROM cost_function_day_tops`;
const BLOCKS = `SELECT day, block, service_ids, function_ids, self_microdollars, cum_microdollars FROM cost_function_day_blocks`;
const STATES = `SELECT day, pairs, functions, top_size FROM cost_function_day_states`;

describe('daily function facts in blocks', () => {
  it('the migration moves the daily rows into blocks and board lists exactly as an attribution writes them, and back down', async () => {
    for (const p of demo.filter((d) => d.start.getTime() === W06.getTime() || d.start.getTime() === W07.getTime()))
      await storeProfile(db, p);
    const service = attributionService(db);
    await attribute(db, service, W06);
    await attribute(db, service, W07);
    const written = {
      facts: await dumpFacts(db),
      tops: await rows(TOPS),
      blocks: await rows(BLOCKS),
      states: await rows(STATES),
    };
    expect(written.tops.length).toBeGreaterThan(100);

    const migration = new FunctionDayBlocks1795322317881();
    const parts = new FunctionDayBlockParts1796510000000();
    const runner = db.createQueryRunner();
    try {
      await parts.down(runner);
      await migration.down(runner);
      const [kind] = (await db.query(`SELECT relkind FROM pg_class WHERE relname = 'cost_function_days'`)) as Array<{
        relkind: string;
      }>;
      expect(kind?.relkind).toBe('p'); // a partitioned table again
      expect(await rows(`SELECT * FROM cost_function_days`)).toEqual(written.facts.cost_function_days);
      await migration.up(runner);
      await parts.up(runner);
    } finally {
      await runner.release();
    }
    expect(await dumpFacts(db)).toEqual(written.facts);
    expect(await rows(BLOCKS)).toEqual(written.blocks);
    expect(await rows(TOPS)).toEqual(written.tops);
    expect(await rows(STATES)).toEqual(written.states);

    // The process's in-memory day no longer matches the stored token: it reads the blocks again and re-running is a no-op.
    const again = await attribute(db, service, W07);
    expect(again.functionDayChanges).toBe(0);
    expect(await dumpFacts(db)).toEqual(written.facts);
  });

  it('a process whose in-memory day is stale (another process wrote the day since) reads it again', async () => {
    const w06 = demo.filter((d) => d.start.getTime() === W06.getTime());
    for (const p of w06) await storeProfile(db, p);
    for (const p of demo.filter((d) => d.start.getTime() === W07.getTime())) await storeProfile(db, p);
    const first = attributionService(db);
    await attribute(db, first, W06); // first keeps the day in memory
    await attribute(db, attributionService(db), W07); // another process adds W07 to the day
    await storeProfile(db, w06[0]!, { start: W06, source: 'late', salt: 'late' });
    await attribute(db, first, W06); // must start from the stored day (with W07), not from its own copy
    const incremental = (await dumpFacts(db)).cost_function_days;

    const facts = [
      'cost_windows',
      'cost_service_windows',
      'cost_team_windows',
      'cost_label_windows',
      'cost_function_splits',
      'cost_function_day_blocks',
      'cost_function_day_tops',
      'cost_function_day_states',
      'cost_service_days',
      'cost_team_days',
      'cost_label_days',
      'cost_provenance_days',
    ];
    await truncateTables(db, facts);
    const fresh = attributionService(db);
    await attribute(db, fresh, W06);
    await attribute(db, fresh, W07);
    expect(incremental).toEqual((await dumpFacts(db)).cost_function_days);
    expect(incremental!.length).toBeGreaterThan(50);
  });
});

describe('block parts', () => {
  // A block of 256 function ids run by 40 services: 10,240 entries, more than two parts. Amounts are made up: what
  // is tested is where entries are stored and read back, not how they were attributed.
  const SERVICES = 40;
  const DAY = '2026-11-21';
  const bigBlock = (): DayBlock => {
    const state = new FunctionDayState(DAY);
    for (let sid = 1; sid <= SERVICES; sid++) {
      const ids = Int32Array.from({ length: 256 }, (_, i) => 256 + i);
      state.apply(sid, null, {
        ids,
        self: [...ids].map((id) => BigInt(id * 1000 + sid)),
        cum: [...ids].map((id) => BigInt(id * 2000 + sid)),
      });
    }
    return state.blocks(new Set([1]))[0]!;
  };
  const plain = (b: DayBlock) => ({ block: b.block, s: [...b.serviceIds], f: [...b.functionIds], x: [...b.self] });

  it('a block larger than a part is stored in parts naming their function range, read back whole, and sliced across parts', async () => {
    const block = bigBlock();
    expect(block.functionIds.length).toBe(256 * SERVICES);
    const repository = new FunctionDayRepository();
    await db.transaction((tx) => repository.writeBlocks(tx, DAY, new Set([1]), [block]));
    const stored = (await db.query(
      `SELECT part, first_function, last_function, cardinality(function_ids) AS n FROM cost_function_day_blocks WHERE day = $1 ORDER BY part`,
      [DAY],
    )) as Array<{ part: number; first_function: number; last_function: number; n: number }>;
    expect(stored.map((r) => r.n)).toEqual([
      BLOCK_PART_ENTRIES,
      BLOCK_PART_ENTRIES,
      256 * SERVICES - 2 * BLOCK_PART_ENTRIES,
    ]);
    // Entries are ordered by function then service: part k starts at entry k × 4,096, i.e. function 256 + ⌊k × 4,096 / 40⌋.
    expect(stored.map((r) => [r.first_function, r.last_function])).toEqual([
      [256, 256 + Math.floor((BLOCK_PART_ENTRIES - 1) / SERVICES)],
      [256 + Math.floor(BLOCK_PART_ENTRIES / SERVICES), 256 + Math.floor((2 * BLOCK_PART_ENTRIES - 1) / SERVICES)],
      [256 + Math.floor((2 * BLOCK_PART_ENTRIES) / SERVICES), 511],
    ]);
    const read = await db.transaction((tx) => repository.readBlocks(tx, DAY));
    expect(read.map(plain)).toEqual([plain(block)]);

    // Function 358's 40 entries straddle parts 0 and 1 (entries 4,080 to 4,119): every service is found once.
    await db.query(
      `INSERT INTO cost_services (id, name) OVERRIDING SYSTEM VALUE SELECT s, 'svc-' || s FROM generate_series(1, ${SERVICES}) s`,
    );
    const queries = new CostQueryRepository(db);
    const range = { fromMs: Date.parse(`${DAY}T00:00:00Z`), toMs: Date.parse(`${DAY}T00:00:00Z`) + 86_400_000 };
    const slice = await queries.functionByService(358, range);
    expect(slice.size).toBe(SERVICES);
    for (let sid = 1; sid <= SERVICES; sid++)
      expect(slice.get(`svc-${sid}`)).toEqual({ self: BigInt(358_000 + sid), cum: BigInt(716_000 + sid) });
    expect((await queries.functionByService(511, range)).get('svc-7')).toEqual({ self: 511_007n, cum: 1_022_007n });
  });

  it('the migration splits an existing block row into parts and joins them on the way down', async () => {
    const block = bigBlock();
    await db.transaction((tx) => new FunctionDayRepository().writeBlocks(tx, DAY, new Set([1]), [block]));
    const all = `SELECT day, block, part, first_function, last_function, service_ids, function_ids, self_microdollars, cum_microdollars FROM cost_function_day_blocks`;
    const written = await rows(all);
    const runner = db.createQueryRunner();
    try {
      const migration = new FunctionDayBlockParts1796510000000();
      await migration.down(runner);
      expect(await rows(BLOCKS)).toEqual(
        await rows(
          `SELECT '${DAY}'::date, 1, '{${[...block.serviceIds]}}'::int[], '{${[...block.functionIds]}}'::int[], '{${[...block.self]}}'::bigint[], '{${[...block.cum]}}'::bigint[]`,
        ),
      );
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    expect(await rows(all)).toEqual(written);
  });
});

describe('FunctionDayState', () => {
  const split = (entries: Array<[number, bigint, bigint]>) => ({
    ids: Int32Array.from(entries.map((e) => e[0])),
    self: entries.map((e) => e[1]),
    cum: entries.map((e) => e[2]),
  });

  it('adds a window, replaces it, removes entries that reach zero and rebuilds from its own blocks', () => {
    const state = new FunctionDayState('2026-11-21');
    expect(
      state.apply(
        2,
        null,
        split([
          [5, 3n, 4n],
          [300, 0n, 2n],
        ]),
      ),
    ).toBe(2);
    expect(state.apply(1, null, split([[5, 1n, 1n]]))).toBe(1);
    expect(
      state.apply(
        2,
        split([
          [5, 3n, 4n],
          [300, 0n, 2n],
        ]),
        split([
          [5, 3n, 4n],
          [7, 1n, 1n],
        ]),
      ),
    ).toBe(2);
    expect([...state.touchedBlocks].sort()).toEqual([0, 1]);
    const blocks = state.blocks(new Set([0, 1]));
    const plain = (b: DayBlock) => ({
      block: b.block,
      s: [...b.serviceIds],
      f: [...b.functionIds],
      x: [...b.self],
      c: [...b.cum],
    });
    expect(blocks.map(plain)).toEqual([{ block: 0, s: [1, 2, 2], f: [5, 5, 7], x: [1n, 3n, 1n], c: [1n, 4n, 1n] }]);
    expect(state.pairs).toBe(3);
    const rebuilt = FunctionDayState.fromBlocks('2026-11-21', blocks);
    expect(rebuilt.blocks(new Set([0])).map(plain)).toEqual(blocks.map(plain));
    const { boards, functions } = state.tops(2);
    expect(functions).toBe(2);
    expect(boards.self.map((l) => [l.serviceId, l.functionId, l.self])).toEqual([
      [2, 5, 3n],
      [1, 5, 1n],
    ]);
    expect(boards['cross-inclusive'].map((l) => [l.functionId, l.cum, l.services])).toEqual([
      [5, 5n, 2],
      [7, 1n, 1],
    ]);
    expect(() => state.apply(1, split([[5, 2n, 1n]]), null)).toThrow(/below zero/);
  });
});
