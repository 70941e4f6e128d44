import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadSettings } from '../src/config/settings.loader';
import { createDataSource } from '../src/database/data-source';
import { startEmbeddedPostgres } from '../src/database/embedded/embedded-postgres';
import { runMigrations } from '../src/database/migrations';
import { createRootLogger } from '../src/logging/root-logger';
import { startServer, type RunningServer } from '../src/server/bootstrap';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { foldPush, planIngest } from '../src/domain/ingest';
import { serializeFold } from '../src/domain/profile';
import { loadAverage } from './support/measure';
import { postgresCpuSeconds, sampleWaits, threadCpuSeconds, topWaits } from './support/ingest-diagnostics';
import { goWorkloadProfile, haveGo } from './support/go-workload';

const ROOT = join(__dirname, '..', '..');
const SHARED = join(ROOT, '..', 'shared', 'profiles');
const CHILD = join(__dirname, 'support', 'ingest-load-child.js');
const BASE_FROM = 1795316400; // 2026-11-22T02:00:00Z, an hour boundary

/**
 * Mixes of real CPU profiles to push: big merged Go profiles, JFR-converted Java CPU profiles, small Go ones (all
 * from ../shared), and, when `go` is installed, what the Go workload (bench/workloads/labels) writes with
 * runtime/pprof in 60 s at 1000 Hz with and without per-request labels (the profile bench's inputs, cached in
 * .bench-tmp).
 */
function mixes(): Array<{ label: string; files: string[] }> {
  const shared = (files: readonly string[]) => files.map((f) => join(SHARED, f)).filter((f) => existsSync(f));
  const list = [
    {
      label: 'Go PGO CPU profiles, 240-355 kB gzipped',
      files: shared([
        'golang-go/default.pgo',
        'golang-go/default.2024-05.pgo',
        'golang-go/default.2023-12.pgo',
        'golang-go/default.2023-05.pgo',
      ]),
    },
    {
      label: 'Java CPU profiles via JFR, 26-30 kB gzipped',
      files: shared(
        [0, 1, 2, 3].map(
          (i) =>
            `grafana-pyroscope/cortex-dev-01__kafka-0__cpu__${i}.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz`,
        ),
      ),
    },
    { label: 'small Go CPU profile, 1.2 kB gzipped', files: shared(['grafana-pyroscope/cpu.pprof']) },
  ];
  const only = process.env['FLAMEBILL_BENCH_MIX'] ?? '';
  const workload = [
    {
      label: 'Go workload 60 s at 1000 Hz, labels on every sample, 2.5 MB gzipped',
      name: 'labels-heavy',
      args: [] as string[],
    },
    { label: 'Go workload 60 s at 1000 Hz, no labels, 0.9 MB gzipped', name: 'labels-free', args: ['-labels=false'] },
  ].filter((w) => w.label.includes(only));
  if (workload.length > 0 && !haveGo()) process.stdout.write('go is not installed: skipping the Go workload mixes\n');
  else
    for (const w of workload)
      list.push({ label: w.label, files: [goWorkloadProfile(w.name, ['-seconds', '60', '-hz', '1000', ...w.args])] });
  return list.filter((m) => m.label.includes(only) && m.files.length > 0);
}

/**
 * Push throughput: the real application (same wiring as `flamebill serve`, logging at warn) on loopback and a
 * PostgreSQL (DATABASE_URL or an embedded one in a temp dir); a load generator in its own process pushes real CPU
 * profiles with `CONCURRENCY` keep-alive connections for `FLAMEBILL_BENCH_SECONDS` (default 60) per mix, as fast as it answers or at `FLAMEBILL_BENCH_RATE` pushes per second (`FLAMEBILL_BENCH_MIX` picks mixes by label; `FLAMEBILL_BENCH_PIPELINE=0` skips
 * the pipeline-alone figures, e.g. to profile only the server with `node --cpu-prof`). After each
 * mix the rows are counted: every 200 must be exactly one row and the CPU sums must agree. `FLAMEBILL_BENCH_JOBS=1`
 * also runs `flamebill jobs` (the scheduled jobs' process of `flamebill serve`) on the same database, with only
 * `compact-pushes` (every 30 s) and `attribute` (every 15 s, three times its default rate) scheduled: push latency
 * while they run.
 */
export async function run(): Promise<void> {
  const seconds = Number(process.env['FLAMEBILL_BENCH_SECONDS'] ?? '60');
  const concurrency = Number(process.env['FLAMEBILL_BENCH_CONCURRENCY'] ?? '8');
  const db = await openBenchDatabase();
  const logger = createRootLogger('warn');
  const settings = loadSettings({
    env: {},
    cwd: ROOT,
    configFile: null,
    overrides: {
      server: { port: 0, host: '127.0.0.1' },
      database: { url: db.url },
      logging: { level: 'warn' },
      schedules: { enabled: false, demo: false },
      ingest: { rateLimit: { bytesPerSecond: 0 }, maxConcurrentRequests: 256, ...ingestOverrides() },
    },
  });
  let server: RunningServer | null = null;
  let jobs: { child: ChildProcess; log: string } | null = null;
  try {
    server = await startServer({ settings, databaseUrl: db.url, logger, migrateOnStart: false });
    if (process.env['FLAMEBILL_BENCH_JOBS'] === '1') jobs = await startJobsProcess(db.url);
    const { workers, insertBatch } = settings.ingest;
    process.stdout.write(
      `${os.cpus().length} cores; load average before: ${loadAverage()}; ${seconds} s per mix, ${concurrency} connections; ` +
        `ingest.workers ${workers}, insertBatch ${JSON.stringify(insertBatch)}, database.poolSize ${settings.database.poolSize}\n`,
    );
    const selected = mixes();
    if (process.env['FLAMEBILL_BENCH_PIPELINE'] !== '0')
      for (const mix of selected) pipelineCeiling(mix.label, mix.files);
    for (const mix of selected) {
      const files = mix.files;
      await db.query('TRUNCATE profiles, dirty_windows');
      await db.query('CHECKPOINT');
      const waits = sampleWaits(db.query);
      const cpu0 = process.cpuUsage();
      const threads0 = threadCpuSeconds();
      const pg0 = db.postmasterPid ? postgresCpuSeconds(db.postmasterPid) : null;
      // How long the HTTP thread was held at a time: what a health check or a small push waits behind.
      const loopDelay = monitorEventLoopDelay({ resolution: 10 });
      loopDelay.enable();
      const t0 = performance.now();
      const figures = await runLoadChild(server.url, seconds, concurrency, files);
      loopDelay.disable();
      const elapsed = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const serverCpu = (cpu.user + cpu.system) / 1e6;
      const pgCpu = pg0 === null ? null : postgresCpuSeconds(db.postmasterPid!) - pg0;
      const waited = await waits.stop();
      const threads = threadCpuSeconds();
      const [row] = (await db.query(
        `SELECT count(*)::int AS n, coalesce(sum(cpu_nanoseconds), 0)::text AS cpu FROM profiles`,
      )) as Array<{ n: number; cpu: string }>;
      const exact =
        row!.n === figures.stored &&
        row!.n === figures.storedIds &&
        row!.cpu === figures.storedCpu &&
        figures.otherAnswers === 0;
      process.stdout.write(
        `${mix.label}: ${figures.mbPerSecond.toFixed(1)} MB/s sustained, ${figures.requestsPerSecond.toFixed(0)} req/s, ` +
          `p50 ${figures.p50Ms.toFixed(1)} ms, p99 ${figures.p99Ms.toFixed(1)} ms, max ${figures.maxMs.toFixed(1)} ms; ` +
          `statuses ${JSON.stringify(figures.statuses)}, ${figures.errors} connection errors; ` +
          `rows ${row!.n} for ${figures.stored} answered stored: ${exact ? 'exact' : 'MISMATCH'}; load average ${loadAverage()}\n`,
      );
      const perPush = (sec: number): string => `${((sec * 1000) / Math.max(1, figures.stored)).toFixed(1)} ms/push`;
      process.stdout.write(
        `  CPU: flamebill ${(serverCpu / elapsed).toFixed(2)} cores (${perPush(serverCpu)})` +
          (pgCpu === null ? '' : `, PostgreSQL ${(pgCpu / elapsed).toFixed(2)} cores (${perPush(pgCpu)})`) +
          `; PostgreSQL backends: ${topWaits(waited)}\n` +
          `  event-loop delay: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms\n` +
          `  flamebill threads: ${Object.entries(threads)
            .map(([name, sec]) => [name, sec - (threads0[name] ?? 0)] as const)
            .filter(([, sec]) => sec > 0.05)
            .sort((a, b) => b[1] - a[1])
            .map(([name, sec]) => `${name} ${perPush(sec)}`)
            .join(', ')}\n`,
      );
      if (!exact) process.exitCode = 1;
    }
    process.stdout.write(`load average after: ${loadAverage()}\n`);
    if (jobs) {
      // From job_runs, not the log: compact-pushes logs its successful runs at debug.
      const runs = (await db.query(
        `SELECT job, count(*)::int AS n, count(*) FILTER (WHERE status = 'failed')::int AS failed FROM job_runs
          WHERE job IN ('compact-pushes', 'attribute') AND status <> 'running' GROUP BY job`,
      )) as Array<{ job: string; n: number; failed: number }>;
      const count = (job: string) => runs.find((r) => r.job === job)?.n ?? 0;
      process.stdout.write(
        `jobs process: ${count('compact-pushes')} compact-pushes runs, ${count('attribute')} attribute runs, ` +
          `${runs.reduce((n, r) => n + r.failed, 0)} failed\n`,
      );
    }
  } finally {
    if (jobs) {
      jobs.child.kill('SIGTERM');
      await new Promise((resolve) => jobs!.child.once('exit', resolve));
    }
    await server?.app.close();
    await db.close();
  }
}

/**
 * `FLAMEBILL_BENCH_INGEST`: JSON merged over the bench's `ingest` settings, to compare configurations, e.g.
 * `{"workers":0,"insertBatch":{"maxRows":1,"writers":8}}` for the fold on the HTTP thread and one commit per push.
 */
function ingestOverrides(): Record<string, unknown> {
  const raw = process.env['FLAMEBILL_BENCH_INGEST'];
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
}

/**
 * The CPU work of one push without HTTP or the database, on this thread: plan, gunzip, header, fold, digest,
 * serializeFold. Its MB/s of gzipped input is the most one core can ingest, whatever the server around it does.
 */
function pipelineCeiling(label: string, files: readonly string[]): void {
  if (files.length === 0) return;
  const bodies = files.map((f) => readFileSync(f));
  const options = { labelKeys: [], maxLabelValues: 100, countWallAsCpu: false };
  const once = (body: Buffer, i: number): void => {
    const plan = planIngest(
      { name: `svc{pod=p${i}}`, from: String(BASE_FROM), format: 'pprof' },
      'application/octet-stream',
      BASE_FROM * 1000,
      3600,
    );
    const out = foldPush(plan, body, options);
    if (out.action === 'store') serializeFold(out.fold);
  };
  for (let i = 0; i < 20; i++) once(bodies[i % bodies.length]!, i); // warm the JIT
  let bytes = 0;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 5000) {
    const body = bodies[n % bodies.length]!;
    once(body, n++);
    bytes += body.length;
  }
  const ms = performance.now() - t0;
  process.stdout.write(
    `${label}: pipeline alone (one core, no HTTP, no database): ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s, ${(ms / n).toFixed(2)} ms per push\n`,
  );
}

interface ChildFigures {
  mbPerSecond: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statuses: Record<string, number>;
  errors: number;
  stored: number;
  storedIds: number;
  storedCpu: string;
  otherAnswers: number;
}

function runLoadChild(
  url: string,
  seconds: number,
  concurrency: number,
  files: readonly string[],
): Promise<ChildFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CHILD, url, String(seconds), String(concurrency), String(BASE_FROM), ...files],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as ChildFigures) : reject(new Error(`load generator exited with ${code}`)),
    );
  });
}

/** `attribute`'s schedule in the jobs process (`FLAMEBILL_BENCH_ATTRIBUTE_CRON`, e.g. "0 0 1 1 *" for compaction alone). */
const ATTRIBUTE_CRON = process.env['FLAMEBILL_BENCH_ATTRIBUTE_CRON'] ?? '*/15 * * * * *';

/** Every registered job but the two measured, scheduled never (1 January 00:00 only). */
const JOBS_OFF = ['pull', 'retention', 'weekly-report', 'ticket-delivery', 'regressions', 'profile-trees'];

/** `flamebill jobs` on `url`, with compaction and attribution scheduled; resolves once it has started. */
async function startJobsProcess(url: string): Promise<{ child: ChildProcess; log: string }> {
  const dir = await mkdtemp(join(os.tmpdir(), 'flamebill-bench-jobs-'));
  const config = join(dir, 'flamebill.yaml');
  await writeFile(
    config,
    [
      'schedules:',
      '  demo: false',
      '  compact-pushes: "*/30 * * * * *"',
      `  attribute: "${ATTRIBUTE_CRON}"`,
      ...JOBS_OFF.map((job) => `  ${job}: "0 0 1 1 *"`),
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'flamebill.js'), 'jobs'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, FLAMEBILL_CONFIG: config, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // FLAMEBILL_BENCH_JOBS_NICE: the jobs process's nice value (what `flamebill serve` gives its jobs process).
  const nice = process.env['FLAMEBILL_BENCH_JOBS_NICE'];
  if (nice !== undefined && child.pid !== undefined) os.setPriority(child.pid, Number(nice));
  const state = { child, log: '' };
  child.stdout!.on('data', (c: Buffer) => (state.log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (state.log += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`flamebill jobs exited with ${code}: ${state.log.slice(-2000)}`)));
  });
  process.stdout.write(`jobs process ${child.pid}: compact-pushes "*/30 * * * * *", attribute "${ATTRIBUTE_CRON}"\n`);
  return state;
}

interface BenchDatabase {
  readonly url: string;
  /** The embedded server's postmaster, to read its CPU time; null on DATABASE_URL's server. */
  readonly postmasterPid: number | null;
  query(sql: string): Promise<unknown[]>;
  close(): Promise<void>;
}

/** A fresh, migrated database on DATABASE_URL's server or on an embedded PostgreSQL in a temp dir. */
async function openBenchDatabase(): Promise<BenchDatabase> {
  let adminUrl = process.env['DATABASE_URL']?.trim();
  let stopServer = async (): Promise<void> => undefined;
  let postmasterPid: number | null = null;
  if (!adminUrl) {
    const dataDir = await mkdtemp(join(os.tmpdir(), 'flamebill-bench-pg-'));
    await chmod(dataDir, 0o755);
    const embedded = await startEmbeddedPostgres({ dataDir, role: 'cli' });
    adminUrl = embedded.url;
    postmasterPid = embedded.postmasterPid;
    stopServer = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const name = `flamebill_bench_${process.pid}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const dataSource = await createDataSource({
    url: url.toString(),
    poolSize: 2,
    applicationName: 'flamebill-bench',
  }).initialize();
  await runMigrations(dataSource);
  return {
    url: url.toString(),
    postmasterPid,
    query: (sql) => dataSource.query(sql) as Promise<unknown[]>,
    close: async () => {
      await dataSource.destroy();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      await stopServer();
    },
  };
}
