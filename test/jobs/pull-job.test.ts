import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { JobsService } from '../../src/jobs/jobs.service';
import { startTestApp, type TestApp } from '../support/app';
import { cliEnv, CLI, ensureBuilt, REPO_ROOT } from '../support/cli';
import { testDatabaseUrl, testDataSource, truncateTables } from '../support/database';
import { startPyroscopeServer, type StoredProfile } from '../sources/servers/pyroscope.server';
import type { LoopbackServer } from '../sources/servers/loopback-server';
import { spawn, type ChildProcess } from 'node:child_process';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);
const TYPE = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/profiles');
const REFS = path.join(REPO_ROOT, 'test/fixtures/corpus/profile-refs');

/** Real CPU profiles per service, and the CPU total `go tool pprof` computes for each (the oracle). */
const SERVICES = [
  {
    service: 'checkout',
    file: 'grafana-pyroscope/cortex-dev-01__kafka-0__cpu__0.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz',
  },
  {
    service: 'ledger',
    file: 'grafana-pyroscope/cortex-dev-01__kafka-0__cpu__1.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz',
  },
  { service: 'search', file: 'parca/profile1.pb.gz' },
].map((s) => ({
  ...s,
  pprof: gunzipSync(readFileSync(path.join(FIXTURES, s.file))),
  total: BigInt(
    (JSON.parse(readFileSync(path.join(REFS, `${s.file}.cpu.top.json`), 'utf8')) as { total: number }).total,
  ),
}));

function storedProfiles(windows: number): StoredProfile[] {
  return SERVICES.flatMap((s) =>
    Array.from({ length: windows }, (_, w) => ({
      labels: { service_name: s.service },
      profileTypeId: TYPE,
      timeMs: T0 + w * HOUR + 60_000,
      pprof: s.pprof,
    })),
  );
}

function mergeRequests(server: LoopbackServer): number {
  return server.requests.filter((r) => r.path.endsWith('/SelectMergeProfile')).length;
}

async function cpuByServiceWindow(db: DataSource): Promise<Record<string, string>> {
  const rows: { service: string; window_start: Date; cpu: string }[] = await db.query(
    `SELECT service, window_start, sum(cpu_nanoseconds)::text AS cpu FROM profiles WHERE source = 'pyro' GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  return Object.fromEntries(rows.map((r) => [`${r.service}@${r.window_start.toISOString()}`, r.cpu]));
}

function expectedCpu(windows: number): Record<string, string> {
  const expected: Record<string, string> = {};
  for (const s of SERVICES)
    for (let w = 0; w < windows; w++)
      expected[`${s.service}@${new Date(T0 + w * HOUR).toISOString()}`] = s.total.toString();
  return expected;
}

describe('pull job in process', () => {
  let server: LoopbackServer;
  let app: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db, ['profiles', 'dirty_windows', 'work_items', 'job_runs']);
    server = await startPyroscopeServer({ maxQueryLookbackMs: 0, profiles: storedProfiles(3) });
    app = await startTestApp({
      settings: {
        sources: [{ name: 'pyro', kind: 'pyroscope', url: server.url, maxQueryLookbackDays: 0 }],
        schedules: { enabled: false },
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await server?.close();
  });

  it('stores every service-window once with the CPU time go tool pprof reports, and a re-run fetches nothing again', async () => {
    const jobs = app.app.get(JobsService);
    const first = await jobs.run('pull', { from: new Date(T0), to: new Date(T0 + 3 * HOUR) });
    expect(first.status).toBe('succeeded');
    expect(first.counts).toMatchObject({ windows: 3, items: 9, done: 9, failed: 0 });
    expect(await cpuByServiceWindow(db)).toEqual(expectedCpu(3));
    expect(mergeRequests(server)).toBe(9);

    const again = await jobs.run('pull', { from: new Date(T0), to: new Date(T0 + 3 * HOUR) });
    expect(again.counts).toMatchObject({ items: 9, done: 9 });
    expect(mergeRequests(server)).toBe(9); // done windows are not fetched again without --force

    const ids: { id: string }[] = await db.query(`SELECT id FROM profiles WHERE source = 'pyro' ORDER BY id`);
    const forced = await jobs.run('pull', { from: new Date(T0), to: new Date(T0 + 3 * HOUR), force: true });
    expect(forced.counts).toMatchObject({ done: 9, failed: 0 });
    expect(mergeRequests(server)).toBe(18);
    expect(await cpuByServiceWindow(db)).toEqual(expectedCpu(3));
    expect(await db.query(`SELECT id FROM profiles WHERE source = 'pyro' ORDER BY id`)).toEqual(ids); // same bytes: rows untouched

    const [run] = await db.query(`SELECT status, counts FROM job_runs WHERE job = 'pull' ORDER BY id LIMIT 1`);
    expect(run).toMatchObject({ status: 'succeeded', counts: { items: 9, done: 9 } });
  });
});

/**
 * A proxy in front of the Pyroscope server that holds every profile request for `delayMs`, so a
 * worker can be killed while it holds an item.
 */
async function slowProxy(target: string, delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const delay = req.url?.endsWith('/SelectMergeProfile') ? delayMs : 0;
      setTimeout(() => {
        const forward = httpRequest(
          { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        forward.on('error', () => res.destroy());
        forward.end(Buffer.concat(chunks));
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function startRun(
  configFile: string,
  databaseUrl: string,
  windows: number,
): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'run',
      'pull',
      '--from',
      new Date(T0).toISOString(),
      '--to',
      new Date(T0 + windows * HOUR).toISOString(),
      '--json',
    ],
    {
      cwd: REPO_ROOT,
      env: cliEnv({ FLAMEBILL_CONFIG: configFile, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

describe('pull backfill by several flamebill processes on one database', () => {
  const WINDOWS = 8;
  let server: LoopbackServer;
  let db: DataSource;
  let databaseUrl: string;

  beforeAll(async () => {
    await ensureBuilt();
    db = await testDataSource();
    databaseUrl = await testDatabaseUrl();
    server = await startPyroscopeServer({ maxQueryLookbackMs: 0, profiles: storedProfiles(WINDOWS) });
  });
  afterAll(async () => server?.close());

  function settingsFile(url: string): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flamebill-pull-'));
    const file = path.join(dir, 'flamebill.yaml');
    writeFileSync(
      file,
      [
        'sources:',
        '  - name: pyro',
        '    kind: pyroscope',
        `    url: ${url}`,
        '    maxQueryLookbackDays: 0',
        'schedules:',
        '  demo: false',
        '  worker: { concurrency: 2, leaseSeconds: 4, maxAttempts: 3 }',
        '',
      ].join('\n'),
    );
    return file;
  }

  it('two processes backfilling the same range fetch and store every service-window exactly once', async () => {
    await truncateTables(db, ['profiles', 'dirty_windows', 'work_items', 'job_runs']);
    const proxy = await slowProxy(server.url, 150);
    const before = mergeRequests(server);
    try {
      const config = settingsFile(proxy.url);
      const [a, b] = [startRun(config, databaseUrl, WINDOWS), startRun(config, databaseUrl, WINDOWS)];
      const results = await Promise.all([a.done, b.done]);
      for (const r of results) expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(mergeRequests(server) - before).toBe(SERVICES.length * WINDOWS); // each item fetched by one process only
      expect(await cpuByServiceWindow(db)).toEqual(expectedCpu(WINDOWS));
      const runs: { host: string; status: string }[] = await db.query(
        `SELECT host, status FROM job_runs WHERE job = 'pull'`,
      );
      expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('an item held by a worker killed with kill -9 is finished by the other, with identical totals', async () => {
    await truncateTables(db, ['profiles', 'dirty_windows', 'work_items', 'job_runs']);
    const proxy = await slowProxy(server.url, 1_500);
    try {
      const config = settingsFile(proxy.url);
      const victim = startRun(config, databaseUrl, WINDOWS);
      // Wait until the victim holds items (its profile requests are in flight), then kill it.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM work_items WHERE status = 'running'`);
        if (n > 0) break;
        if (Date.now() > deadline)
          throw new Error(`victim never claimed an item: ${await victim.done.then((r) => r.stderr)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      victim.child.kill('SIGKILL');
      await victim.done;
      const orphaned: { item_key: string }[] = await db.query(
        `SELECT item_key FROM work_items WHERE status = 'running'`,
      );
      expect(orphaned.length).toBeGreaterThan(0);

      const survivor = await startRun(config, databaseUrl, WINDOWS).done;
      expect(survivor.code, survivor.stderr + survivor.stdout).toBe(0);
      const summary = JSON.parse(survivor.stdout.trim().split('\n').pop()!) as { counts: Record<string, number> };
      expect(summary.counts).toMatchObject({
        items: SERVICES.length * WINDOWS,
        done: SERVICES.length * WINDOWS,
        failed: 0,
      });
      expect(await db.query(`SELECT job, item_key, status, last_error FROM work_items WHERE status <> 'done'`)).toEqual(
        [],
      );
      expect(await cpuByServiceWindow(db)).toEqual(expectedCpu(WINDOWS));
    } finally {
      await proxy.close();
    }
  }, 180_000);
});
