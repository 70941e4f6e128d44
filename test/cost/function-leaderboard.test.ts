import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { finalists, type DayList } from '../../src/cost/function-leaderboard';
import { LeaderboardRepository, type Period } from '../../src/cost/leaderboard.repository';
import { testDataSource, truncateTables } from '../support/database';
import { attribute, attributionService, demoProfiles, HOUR, loadExampleCatalog, storeProfile } from './support';

describe('finalists (no-random-access top-k over day lists)', () => {
  /** Random amounts per day for keys k0..k9 (absent = no entry that day), lists truncated at random depths. */
  const caseArb = fc.record({
    days: fc.array(
      fc.dictionary(
        fc.constantFrom('k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9'),
        fc.bigInt({ min: 0n, max: 30n }),
        { maxKeys: 10 },
      ),
      { minLength: 1, maxLength: 5 },
    ),
    depths: fc.array(fc.integer({ min: 0, max: 11 }), { minLength: 5, maxLength: 5 }),
    limit: fc.integer({ min: 1, max: 6 }),
  });

  it('never leaves out a line of the true top N, whatever the list depths and ties', () => {
    fc.assert(
      fc.property(caseArb, ({ days, depths, limit }) => {
        const lists: DayList[] = days.map((amounts, d) => {
          const all = Object.entries(amounts)
            .map(([key, amount]) => ({ key, amount }))
            .sort((a, b) => (a.amount === b.amount ? (a.key < b.key ? -1 : 1) : a.amount > b.amount ? -1 : 1));
          const depth = Math.max(1, depths[d] as number);
          return { lines: all.slice(0, depth), complete: all.length <= depth };
        });
        const result = finalists(lists, limit);
        const totals = new Map<string, bigint>();
        for (const amounts of days)
          for (const [k, v] of Object.entries(amounts)) totals.set(k, (totals.get(k) ?? 0n) + v);
        const top = [...totals]
          .sort(([ka, a], [kb, b]) => (a === b ? (ka < kb ? -1 : 1) : a > b ? -1 : 1))
          .slice(0, limit)
          .map(([k]) => k);
        if (lists.every((l) => l.complete)) expect(result).not.toBeNull();
        if (result !== null) for (const k of top) expect(result).toContain(k);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('function leaderboards from the day lists agree with summing every daily row', () => {
  let db: DataSource;
  const DAY = 86_400_000;
  const D21 = Date.parse('2026-11-21T00:00:00Z');

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    await loadExampleCatalog(db);
    // The demo windows of 2026-11-21, and the early ones again on the 20th and the 22nd: three days of facts.
    const demo = demoProfiles();
    const placed = [
      ...demo.map((p) => ({ p, start: p.start })),
      ...demo
        .filter((p) => p.start.getUTCHours() < 9)
        .flatMap((p) => [
          { p, start: new Date(p.start.getTime() - DAY) },
          { p, start: new Date(p.start.getTime() + DAY + HOUR) },
        ]),
    ];
    for (const { p, start } of placed) await storeProfile(db, p, { start, salt: start.toISOString() });
    const service = attributionService(db);
    for (const start of [...new Set(placed.map((x) => x.start.getTime()))].sort())
      await attribute(db, service, new Date(start));
  });

  const periods: Array<[string, Period, Period]> = [
    ['one day', { from: new Date(D21), to: new Date(D21 + DAY) }, { from: new Date(D21 - DAY), to: new Date(D21) }],
    [
      'three days',
      { from: new Date(D21 - DAY), to: new Date(D21 + 2 * DAY) },
      { from: new Date(D21 - 4 * DAY), to: new Date(D21 - DAY) },
    ],
    [
      'two days, previous with facts',
      { from: new Date(D21 + DAY), to: new Date(D21 + 3 * DAY) },
      { from: new Date(D21 - DAY), to: new Date(D21 + DAY) },
    ],
    [
      'no facts',
      { from: new Date(D21 + 5 * DAY), to: new Date(D21 + 6 * DAY) },
      { from: new Date(D21 + 4 * DAY), to: new Date(D21 + 5 * DAY) },
    ],
  ];

  /** Keeps only the first `size` lines of every stored day list (as if the lists were that short). */
  async function truncateLists(size: number): Promise<void> {
    await db.query(`DELETE FROM cost_function_day_tops WHERE rank > $1`, [size]);
    await db.query(`UPDATE cost_function_day_states SET top_size = LEAST(top_size, $1)`, [size]);
  }

  it.each([1000, 40, 7, 2])('with lists of %i lines, for every board, period and limit', async (size) => {
    await truncateLists(size);
    const repo = new LeaderboardRepository(db);
    let summed = 0;
    let asked = 0;
    const fast = new (class extends LeaderboardRepository {
      override functionsBySum(...args: Parameters<LeaderboardRepository['functionsBySum']>) {
        summed++;
        return super.functionsBySum(...args);
      }
      override crossServiceFunctionsBySum(...args: Parameters<LeaderboardRepository['crossServiceFunctionsBySum']>) {
        summed++;
        return super.crossServiceFunctionsBySum(...args);
      }
    })(db);
    const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM cost_function_days`)) as [{ n: number }];
    expect(n).toBeGreaterThan(200); // ~100 (service, function) lines a day: lists of 40, 7 and 2 lines are truncated
    for (const [, current, previous] of periods) {
      for (const limit of [1, 3, 10, 50]) {
        for (const by of ['self', 'inclusive'] as const) {
          expect(await fast.functions(current, previous, by, limit)).toEqual(
            await repo.functionsBySum(current, previous, by, limit),
          );
          expect(await fast.crossServiceFunctions(current, previous, by, limit)).toEqual(
            await repo.crossServiceFunctionsBySum(current, previous, by, limit),
          );
          asked += 2;
        }
      }
    }
    // Complete lists always decide; truncated ones decide the short boards (else this test would only test the fallback).
    if (size === 1000) expect(summed).toBe(0);
    else if (size === 40) expect(summed).toBeLessThan(asked / 2);
    else expect(summed).toBeLessThan(asked);
  });
});
