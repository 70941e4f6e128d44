import { beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { RegressionRepository } from '../../src/regressions/regression.repository';
import { testDataSource, truncateTables } from '../support/database';
import { queueFinding } from './support';

let db: DataSource;

beforeAll(async () => {
  db = await testDataSource();
  await truncateTables(db);
});

describe('regression outbox', () => {
  it('a row is due to a clock that reads the millisecond it was written in (JavaScript clocks have no microseconds)', async () => {
    const fingerprint = await queueFinding(db, 'checkout');
    // The row's own time as a JavaScript Date: its millisecond, what a clock read just after the write may say.
    const [row] = (await db.query(`SELECT next_attempt_at FROM regression_outbox WHERE fingerprint = $1`, [
      fingerprint,
    ])) as Array<{ next_attempt_at: Date }>;
    const sameMillisecond = new Date(row!.next_attempt_at.getTime());
    const claimed = await db.transaction((tx) => new RegressionRepository(db).claimNext(tx, sameMillisecond));
    expect(claimed?.fingerprint).toBe(fingerprint);
    // And not before it.
    const before = new Date(sameMillisecond.getTime() - 1);
    expect(await db.transaction((tx) => new RegressionRepository(db).claimNext(tx, before))).toBeNull();
  });
});
