import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deserializeFold } from '../../src/domain/profile';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';
import { startRecordingProxy, type RecordedPush, type RecordingProxy } from './support/recording-proxy';

const TOKEN = 'agent-e2e-token';

let app: TestApp;
let proxy: RecordingProxy;
let db: DataSource;

beforeAll(async () => {
  process.env.FLAMEBILL_AGENT_E2E_TOKEN = TOKEN;
  app = await startTestApp({
    logLevel: 'warn',
    settings: {
      schedules: { enabled: false, demo: false },
      labels: { keys: ['endpoint'] },
      ingest: { tenants: [{ name: 'shop-team', tokenEnv: 'FLAMEBILL_AGENT_E2E_TOKEN' }] },
    },
  });
  proxy = await startRecordingProxy(app.baseUrl);
  db = await testDataSource();
  await truncateTables(db, ['profiles', 'dirty_windows']);
});
afterAll(async () => {
  await proxy?.close();
  await app?.close();
  delete process.env.FLAMEBILL_AGENT_E2E_TOKEN;
});

/** Runs the workload with the published agent until it exits (it stops the agent, which flushes, first). */
function runAgentWorkload(env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'support', 'agent-workload.cjs')], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`workload exited with ${code}: ${out}`));
    });
  });
}

/** Sample types of a pushed pprof body, read with pprof-format (not flamebill's reader). */
function decode(push: RecordedPush): Profile {
  return Profile.decode(gunzipSync(push.body));
}

function typesOf(profile: Profile): string[] {
  return profile.sampleType.map(
    (t) =>
      `${String(profile.stringTable.strings[Number(t.type)])}/${String(profile.stringTable.strings[Number(t.unit)])}`,
  );
}

/** Sum of the cpu/nanoseconds values of a decoded profile, exactly. */
function cpuOf(profile: Profile): bigint {
  const index = typesOf(profile).indexOf('cpu/nanoseconds');
  return profile.sample.reduce((sum, s) => sum + BigInt(s.value[index]!), 0n);
}

describe('the published @pyroscope/nodejs agent pushing to flamebill', () => {
  it('stores exactly the CPU time the agent pushed', async () => {
    await runAgentWorkload({
      SERVER_ADDRESS: proxy.url,
      APP_NAME: 'shop',
      AUTH_TOKEN: TOKEN,
      FLUSH_MS: '2000',
      RUN_MS: '5000',
    });

    // What went over the wire: the agent's format, headers and name (see DESIGN.md).
    expect(proxy.pushes.length).toBeGreaterThanOrEqual(4);
    for (const push of proxy.pushes) {
      const q = new URL(push.url, 'http://x').searchParams;
      expect(q.get('format')).toBe('pprof');
      expect(q.get('spyName')).toBe('nodespy');
      expect(q.get('name')).toMatch(/^shop\{.*env=test.*\}$/);
      expect(push.headers['content-type']).toBe('application/octet-stream');
      expect(push.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(push.status).toBe(200);
    }

    const decoded = proxy.pushes.map((push) => ({ push, profile: decode(push) }));
    const wall = decoded.filter((d) => typesOf(d.profile).includes('cpu/nanoseconds'));
    const heap = decoded.filter((d) => typesOf(d.profile).includes('inuse_space/bytes'));
    expect(wall.length).toBeGreaterThanOrEqual(2);
    expect(heap.length).toBeGreaterThanOrEqual(2);
    expect(wall.length + heap.length).toBe(decoded.length);
    for (const { push } of heap)
      expect(JSON.parse(push.response)).toMatchObject({ status: 'skipped', reason: 'not-cpu' });
    for (const { push } of wall) expect(JSON.parse(push.response)).toMatchObject({ status: 'stored', service: 'shop' });

    const expected = wall.reduce((sum, d) => sum + cpuOf(d.profile), 0n);
    expect(expected).toBeGreaterThan(0n);
    const [{ stored }] = (await db.query(
      `SELECT sum(cpu_nanoseconds)::text AS stored FROM profiles WHERE service = 'shop'`,
    )) as Array<{ stored: string }>;
    expect(BigInt(stored)).toBe(expected);

    // One row per wall push, each equal to its own body, sliced by the agent's `endpoint` label.
    const rows = (await db.query(
      `SELECT cpu_nanoseconds::text AS cpu, fold, raw, series_labels FROM profiles WHERE service = 'shop' ORDER BY id`,
    )) as Array<{
      cpu: string;
      fold: Buffer;
      raw: Buffer;
      series_labels: Record<string, string>;
    }>;
    expect(rows.length).toBe(wall.length);
    for (const row of rows) {
      const sent = wall.find((w) => w.push.body.equals(row.raw));
      expect(sent).toBeDefined();
      expect(BigInt(row.cpu)).toBe(cpuOf(sent!.profile));
      expect(row.series_labels).toMatchObject({ env: 'test', version: 'v1', 'process.runtime.name': 'nodejs' });
      const fold = deserializeFold(row.fold);
      const slices = new Map((fold.slices ?? []).map((s) => [s.labels['endpoint'] ?? '', s.total]));
      expect([...slices.values()].reduce((a, b) => a + b, 0n)).toBe(fold.total);
    }
    const checkout = rows
      .map((r) => deserializeFold(r.fold))
      .flatMap((f) => f.slices ?? [])
      .filter((s) => s.labels['endpoint'] === '/checkout');
    expect(checkout.reduce((sum, s) => sum + s.total, 0n)).toBeGreaterThan(0n);
  });
});
