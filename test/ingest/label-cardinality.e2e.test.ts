import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobsService } from '../../src/jobs/jobs.service';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';

/** A real Go CPU profile whose requests carry a request_id each (~700 values), see test/fixtures/go-workload. */
const PROFILE = readFileSync(path.join(__dirname, '../fixtures/go-workload/labels-2s.pb.gz'));
/** `go tool pprof -top -unit=ns -nodefraction=0` total of that file. */
const TOTAL_NS = 1_426_000_000n;
const FROM = 1795318200; // 2026-11-22T03:30:00Z

describe('the label cardinality guard', () => {
  let app: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    app = await startTestApp({
      logLevel: 'warn',
      settings: {
        labels: { keys: ['endpoint', 'request_id'], maxValuesPerKey: 100 },
        prices: [{ costPerCoreHour: '0.04', effectiveFrom: '2026-01-01' }],
      },
    });
  });
  afterAll(async () => app?.close());

  it('keeps the 100 costliest request_id values, bills the rest under __other__, and says so in the answer, the log and /metrics', async () => {
    const response = await fetch(
      `${app.baseUrl}/ingest?${new URLSearchParams({ name: 'checkout', format: 'pprof', from: String(FROM), until: String(FROM + 2) })}`,
      {
        method: 'POST',
        body: PROFILE,
      },
    );
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { cpuNanoseconds: string; labelValuesFolded?: string[] };
    expect(answer).toMatchObject({ cpuNanoseconds: TOTAL_NS.toString(), labelValuesFolded: ['request_id'] });
    expect(
      app.logs().some((l) => String(l.msg).includes('label request_id of checkout has more than 100 values')),
    ).toBe(true);
    expect(await (await fetch(`${app.baseUrl}/metrics`)).text()).toMatch(
      /flamebill_ingest_label_values_folded_total\{key="request_id"\} 1/,
    );

    expect(await app.app.get(JobsService).run('attribute')).toMatchObject({ status: 'succeeded' });
    const rows = (await db.query(
      `SELECT label_key, label_value, microdollars::text AS amount FROM cost_label_windows WHERE service = 'checkout' ORDER BY label_key, label_value`,
    )) as Array<{ label_key: string; label_value: string; amount: string }>;
    const byKey = (key: string) => rows.filter((r) => r.label_key === key);
    const [service] = (await db.query(
      `SELECT microdollars::text AS amount FROM cost_service_windows WHERE service = 'checkout'`,
    )) as Array<{ amount: string }>;
    for (const key of ['endpoint', 'request_id']) {
      expect(
        byKey(key).reduce((sum, r) => sum + BigInt(r.amount), 0n),
        key,
      ).toBe(BigInt(service!.amount));
    }
    const requestIds = byKey('request_id');
    expect(requestIds.filter((r) => r.label_value !== '__other__' && r.label_value !== '__none__')).toHaveLength(100);
    const other = requestIds.find((r) => r.label_value === '__other__')!;
    const none = requestIds.find((r) => r.label_value === '__none__');
    // Most of the cost is in the many small requests past the 100 costliest, never in one __none__ row.
    expect(BigInt(other.amount)).toBeGreaterThan(BigInt(service!.amount) / 2n);
    expect(BigInt(none?.amount ?? '0')).toBeLessThan(BigInt(service!.amount) / 2n);
    expect(byKey('endpoint').map((r) => r.label_value)).toEqual(
      expect.arrayContaining(['/cart', '/checkout', '/search']),
    );
  });
});
