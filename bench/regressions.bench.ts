import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { CatalogRepository } from '../src/catalog/catalog.repository';
import type { Settings } from '../src/config/settings.schema';
import { CostQueryRepository } from '../src/cost/cost-query.repository';
import { CostQueryService } from '../src/cost/cost-query.service';
import { FunctionDictionary } from '../src/cost/function-dictionary';
import { LeaderboardRepository } from '../src/cost/leaderboard.repository';
import { buildTree, encodeTree } from '../src/domain/profile/tree';
import { ProfileTreeRepository } from '../src/profile-trees/profile-tree.repository';
import { ProfileTreeService } from '../src/profile-trees/profile-tree.service';
import { ProfileRepository } from '../src/profiles/profile.repository';
import { RegressionRepository } from '../src/regressions/regression.repository';
import { RegressionScanService } from '../src/regressions/regression-scan.service';
import { regressionsSettingsSchema } from '../src/domain/regression/regression-settings';
import { migratedBenchDatabase } from './support/bench-database';
import { loadAverage } from './support/measure';

const SERVICES = 1000;
const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'regressions');

/**
 * The regression scan over 1,000 services (the figure): each service has a baseline day tree and a current
 * day tree from the real Go pairs of test/fixtures/regressions (one in ten regressed, the rest another run of v1),
 * stored as attribution stores them; the scan reads both through ProfileTreeService, detects and writes findings and
 * outbox rows in one transaction. No cost facts: findings are unpriced (the $ threshold is off). DATABASE_URL or an
 * embedded PostgreSQL.
 */
export async function run(): Promise<void> {
  process.stdout.write(`load average before: ${loadAverage()} (2 cores, shared with other engineers)\n`);
  const { db, close } = await migratedBenchDatabase();
  try {
    await fill(db);
    const settings = {
      labels: { keys: [], maxValuesPerKey: 100 },
      currency: 'USD',
      regressions: regressionsSettingsSchema.parse({ minImpactPerYear: '0' }),
    } as unknown as Settings;
    const trees = new ProfileTreeRepository(db);
    const costs = new CostQueryService(
      new CostQueryRepository(db),
      new LeaderboardRepository(db),
      new FunctionDictionary(db),
      () => Date.now(),
    );
    const scanner = new RegressionScanService(
      db,
      new ProfileTreeService(trees, new ProfileRepository(db), settings),
      trees,
      costs,
      new CatalogRepository(db),
      new RegressionRepository(db),
      settings,
    );
    const windows = {
      baseFrom: new Date('2026-11-20T00:00:00Z'),
      baseTo: new Date('2026-11-21T00:00:00Z'),
      currentFrom: new Date('2026-11-21T00:00:00Z'),
      currentTo: new Date('2026-11-22T00:00:00Z'),
    };
    for (const label of ['first scan (opens findings)', 'second scan (no change)']) {
      const t0 = performance.now();
      const counts = await scanner.scan(windows);
      process.stdout.write(
        `${label}: ${SERVICES} services in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${JSON.stringify(counts)}\n`,
      );
    }
  } finally {
    await close();
  }
}

async function fill(db: DataSource): Promise<void> {
  const tree = (name: string) =>
    Buffer.from(encodeTree(buildTree(readFileSync(path.join(FIXTURES, `${name}.pb.gz`)))!));
  const base = [tree('v1-a'), tree('v1-b'), tree('v1-c')];
  const same = [tree('v1-b'), tree('v1-c'), tree('v1-2x')];
  const regressed = [tree('v2-regex'), tree('v2-quadratic'), tree('v2-regex-b'), tree('v2-quadratic-b')];
  for (let i = 0; i < SERVICES; i++) {
    const current = i % 10 === 0 ? regressed[(i / 10) % regressed.length]! : same[i % same.length]!;
    for (const [day, bytes] of [
      ['2026-11-20', base[i % base.length]!],
      ['2026-11-21', current],
    ] as const) {
      await db.query(
        `INSERT INTO profile_day_trees (service, day, version, windows, profiles, missing_raw, cpu_nanoseconds, node_count, tree) VALUES ($1, $2, '', 1, 1, 0, 0, 0, $3)`,
        [`svc-${String(i).padStart(4, '0')}`, day, bytes],
      );
    }
  }
}
