import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { ApiKeyRepository } from '../src/api/auth/api-key.repository';
import { ApiKeyService } from '../src/api/auth/api-key.service';
import { createDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrations';
import { benchDatabase } from './support/bench-database';
import { loadAverage, mib } from './support/measure';

/**
 * The finance API under load (`npm run bench -- api`): a year of daily rollups for 1,000 services (100 teams,
 * services 990-999 unowned) and hourly window headers, served by `flamebill serve` in its own process; autocannon
 * (in this process) sends a fixed rate to the leaderboards and `/costs` for one week and prints p50/p99, then the
 * year's FOCUS export of every service per day is read once, timing rows/s and sampling the server's RSS.
 * `--seconds N` (default 10) per endpoint, `--rate N` (default 500 req/s), `--cache S` (api.cache.ttlSeconds, default
 * 60; 0 measures every request reaching the cost query service). DATABASE_URL or an embedded PostgreSQL.
 */
export async function run(): Promise<void> {
  const seconds = arg('seconds', 10);
  const rate = arg('rate', 500);
  const cacheSeconds = argOrZero('cache', 60);
  const out = process.stdout;
  out.write(
    `scale: ${SERVICES} services, ${TEAMS} teams, ${DAYS} days of daily rollups; ${rate} req/s for ${seconds} s per endpoint; answer cache ${cacheSeconds} s; load ${loadAverage()}\n`,
  );
  const { url, stop } = await benchDatabase();
  const db = await createDataSource({
    url,
    poolSize: 2,
    applicationName: 'flamebill-bench',
    slowQueryMs: 3_600_000,
  }).initialize();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flamebill-api-bench-'));
  let server: ChildProcess | null = null;
  try {
    await runMigrations(db);
    await fill(db);
    const { key } = await new ApiKeyService(new ApiKeyRepository(db)).create('bench', ['read', 'export']);
    const port = await freePort();
    await writeFile(
      path.join(dir, 'flamebill.yaml'),
      `server: {port: ${port}, host: 127.0.0.1}\nlogging: {level: warn}\nschedules: {enabled: false, demo: false}\npaths: {dataDir: ${dir}/data, catalogDir: ${dir}/catalog}\napi: {rateLimit: {requestsPerMinute: 1000000, burst: 1000000}, cache: {ttlSeconds: ${cacheSeconds}}}\n`,
    );
    server = await startServer(
      { ...process.env, DATABASE_URL: url, FLAMEBILL_CONFIG: path.join(dir, 'flamebill.yaml') },
      port,
    );
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${key}` };
    const week = `from=${iso(END - 7 * DAY)}&to=${iso(END)}`;
    // /prices reads no table: the cost of the framework, the key check and the serialisation alone.
    for (const route of [
      '/api/v1/prices',
      `/api/v1/leaderboards/services?${week}&limit=10`,
      `/api/v1/leaderboards/teams?${week}&limit=10`,
      `/api/v1/costs?${week}&groupBy=team`,
      `/api/v1/costs?${week}&groupBy=service&limit=100`,
    ]) {
      const warm = await fetch(base + route, { headers });
      if (warm.status !== 200) throw new Error(`${route}: ${warm.status} ${await warm.text()}`);
      const result = await autocannon({
        url: base + route,
        headers,
        connections: 20,
        overallRate: rate,
        duration: seconds,
      });
      out.write(
        `${route}\n  ${result.requests.total} requests (${(result.requests.total / seconds).toFixed(0)}/s), non-2xx ${result.non2xx}, errors ${result.errors}, latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; load ${loadAverage()}\n`,
      );
    }
    await focusExport(base, headers, server.pid as number);
  } finally {
    server?.kill('SIGINT');
    if (server) await new Promise((r) => server!.once('exit', r));
    await db.destroy();
    await stop();
    await rm(dir, { recursive: true, force: true });
  }
  out.write(`load average after: ${loadAverage()}\n`);
}

const SERVICES = arg('services', 1000);
const TEAMS = 100;
const DAYS = 365;
const DAY = 86_400_000;
const END = Date.parse('2026-11-30T00:00:00Z');
const START = END - DAYS * DAY;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The year's FOCUS export, read as fast as the server sends it; the server's RSS sampled every 20 ms. */
async function focusExport(base: string, headers: Record<string, string>, pid: number): Promise<void> {
  const rssBefore = await rss(pid);
  let peak = rssBefore;
  const sampler = setInterval(() => void rss(pid).then((r) => (peak = Math.max(peak, r))), 20);
  const t = performance.now();
  const response = await fetch(`${base}/api/v1/exports/focus?from=${iso(START)}&to=${iso(END)}&granularity=day`, {
    headers,
  });
  let rows = -1;
  let bytes = 0;
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (const c of decoder.decode(chunk, { stream: true })) if (c === '\n') rows++;
  }
  const seconds = (performance.now() - t) / 1000;
  clearInterval(sampler);
  process.stdout.write(
    `FOCUS export, a year per day of every service: ${response.status}, ${rows} rows, ${mib(bytes)} in ${seconds.toFixed(1)} s = ${(rows / seconds).toFixed(0)} rows/s; server RSS ${mib(rssBefore)} before, peak ${mib(peak)} (+${mib(peak - rssBefore)}); load ${loadAverage()}\n`,
  );
}

async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Daily service and team rollups for the year and an hourly window header per hour (what the books read). */
async function fill(db: DataSource): Promise<void> {
  const t = performance.now();
  const q = (sql: string, params: unknown[] = []) => db.query(sql, params);
  await q(`INSERT INTO price_schedules (id, currency, document) VALUES ('sha256:bench', 'USD', '{}'::jsonb)`);
  const team = `CASE WHEN s < ${SERVICES - 10} THEN 'team-' || lpad((s % ${TEAMS})::text, 3, '0') ELSE '__unowned__' END`;
  const amount = `(1000000000 / (s + 1) + s * 7919 % 1000) * (4 + d * 7 % 5)`;
  await q(
    `INSERT INTO cost_service_days (day, service, team, cpu_nanoseconds, microdollars, default_priced, windows)
     SELECT $1::date + d, 'svc-' || lpad(s::text, 4, '0'), ${team}, ${amount}::bigint * 1000, ${amount}::bigint, false, 24
       FROM generate_series(0, ${DAYS - 1}) d, generate_series(0, ${SERVICES - 1}) s`,
    [iso(START)],
  );
  await q(
    `INSERT INTO cost_team_days (day, team, kind, own_microdollars, rolled_up_microdollars)
     SELECT day, team, CASE WHEN team = '__unowned__' THEN 'unowned' ELSE 'group' END, sum(microdollars), sum(microdollars) FROM cost_service_days GROUP BY day, team`,
  );
  await q(
    `INSERT INTO cost_windows (window_start, window_end, currency, total_microdollars, idle_microdollars, default_priced, price_schedule_id, profile_count, idle)
     SELECT w, w + interval '1 hour', 'USD', t.m / 24, 0, false, 'sha256:bench', ${SERVICES}, '[]'::jsonb
       FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') w
       JOIN (SELECT day, sum(microdollars) AS m FROM cost_service_days GROUP BY day) t ON t.day = w::date`,
    [new Date(START), new Date(END)],
  );
  await q('ANALYZE');
  process.stdout.write(`filled ${SERVICES * DAYS} service-days in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
}

function startServer(env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'flamebill.js'), 'serve'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = async (): Promise<void> => {
      if (child.exitCode !== null) return reject(new Error(`serve exited: ${output}`));
      if (Date.now() > deadline) return reject(new Error(`serve did not answer: ${output}`));
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) resolve(child);
      else setTimeout(() => void poll(), 200);
    };
    void poll();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function argOrZero(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isInteger(v) && v >= 0 ? v : fallback;
}
