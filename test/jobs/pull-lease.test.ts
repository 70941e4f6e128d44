import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WorkQueueRepository } from '../../src/jobs/work-queue.repository';
import { WorkRunner } from '../../src/jobs/work-runner';
import { ProfileRepository } from '../../src/profiles/profile.repository';
import { ProfileStoreService } from '../../src/profiles/profile-store.service';
import { PullHandler } from '../../src/pull/pull.handler';
import { pullItem } from '../../src/pull/pull.planner';
import type { FetchedProfile, ProfileSource } from '../../src/sources';
import { testDataSource, truncateTables } from '../support/database';
import { type TimeWindow } from '../../src/domain/time-window';

const PROFILE = readFileSync(path.join(__dirname, '../fixtures/corpus/profiles/grafana-pyroscope/cpu.pprof'));
const WINDOW = { start: new Date('2026-11-20T00:00:00Z'), end: new Date('2026-11-20T01:00:00Z') };

/**
 * Serves one real profile per fetch, after running `duringFetch` (here: another replica taking the item over, as it
 * does when this worker's lease runs out while the profiler is slow).
 */
function source(duringFetch: () => Promise<void>): ProfileSource {
  return {
    name: 'pyro',
    kind: 'pyroscope',
    listServices: async () => ['checkout'],
    fetchProfiles: async (_service: string, window: TimeWindow): Promise<FetchedProfile[]> => {
      await duringFetch();
      return [
        {
          bytes: PROFILE,
          profileType: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
          seriesLabels: { service_name: 'checkout' },
          range: window,
          origin: 'test',
        },
      ];
    },
  };
}

describe('a pull item stores its profiles in the commit that completes it', () => {
  let db: DataSource;
  let queue: WorkQueueRepository;

  beforeAll(async () => {
    db = await testDataSource();
    queue = new WorkQueueRepository(db);
  });
  beforeEach(async () => truncateTables(db, ['profiles', 'dirty_windows', 'work_items']));
  afterAll(async () => db.destroy());

  function runner(owner: string, src: ProfileSource): WorkRunner {
    const store = new ProfileStoreService(new ProfileRepository(db));
    const handler = new PullHandler([src], store, { labelKeys: [], maxLabelValues: 100, countWallAsCpu: false }, true);
    return new WorkRunner(db, queue, { owner, leaseMs: 60_000, maxAttempts: 3, concurrency: 1 }).register(handler);
  }

  it('a worker whose lease was taken over during the fetch writes nothing; the new holder stores the window once', async () => {
    await queue.enqueue([pullItem('pyro', 'checkout', WINDOW)]);
    const takeOver = async (): Promise<void> => {
      await db.query(`UPDATE work_items SET lease_owner = 'replica-b#1', lease_until = now() + interval '1 minute'`);
    };
    const first = await runner('replica-a', source(takeOver)).drain(['pull']);
    expect(first).toEqual({ done: 0, failed: 0, lost: 1, busy: 0 });
    expect(await db.query(`SELECT count(*)::int AS n FROM profiles`)).toEqual([{ n: 0 }]);
    expect(await db.query(`SELECT count(*)::int AS n FROM dirty_windows`)).toEqual([{ n: 0 }]);

    // Replica b's lease runs out too (it died): the item is claimed again and stored once.
    await db.query(`UPDATE work_items SET lease_until = now() - interval '1 second'`);
    const second = await runner(
      'replica-c',
      source(async () => undefined),
    ).drain(['pull']);
    expect(second).toEqual({ done: 1, failed: 0, lost: 0, busy: 0 });
    expect(await db.query(`SELECT service, cpu_nanoseconds::text AS cpu FROM profiles`)).toEqual([
      { service: 'checkout', cpu: '470000000' },
    ]);
  });
});
