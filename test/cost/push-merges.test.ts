import type { DataSource } from 'typeorm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AttributionService } from '../../src/cost/attribution.service';
import { ProfileRepository } from '../../src/profiles/profile.repository';
import { testDataSource, truncateTables } from '../support/database';
import {
  attribute,
  attributionService,
  demoProfiles,
  loadExampleCatalog,
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
    const read = await db.transaction((tx) => new ProfileRepository(db).listWindowForAttribution(W, tx));
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
});
