import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deserializeFold } from '../../src/domain/profile';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';
import { post } from './support/http-post';

const FIXTURES = join(__dirname, '..', 'fixtures', 'profiles');
const fixture = (path: string): Buffer => readFileSync(join(FIXTURES, path));
const refTotal = (path: string): bigint =>
  BigInt(
    (
      JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'corpus', 'profile-refs', path), 'utf8')) as {
        total: number;
      }
    ).total,
  );

const TOKEN = 'e2e-token-7f3a';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const GO_CPU = fixture('grafana-pyroscope/cpu.pprof'); // gzipped Go CPU profile
const GO_CPU_NS = refTotal('grafana-pyroscope/cpu.pprof.cpu.top.json');
const FOLDED = fixture('flamegraph/perf-java-stacks-01-collapsed-all.txt');
const FROM = 1795318200; // 2026-11-22T03:30:00Z
const WINDOW = '2026-11-22T03:00:00.000Z';
const MAX_BODY = 1024 * 1024;

let app: TestApp;
let db: DataSource;

beforeAll(async () => {
  process.env.FLAMEBILL_E2E_INGEST_TOKEN = TOKEN;
  app = await startTestApp({
    logLevel: 'warn',
    settings: {
      schedules: { enabled: false, demo: false },
      ingest: {
        maxBodyBytes: MAX_BODY,
        maxInflatedBytes: 16 * 1024 * 1024,
        tenants: [{ name: 'team-a', tokenEnv: 'FLAMEBILL_E2E_INGEST_TOKEN' }],
        rateLimit: { bytesPerSecond: 0 },
      },
    },
  });
  db = await testDataSource();
});
afterAll(async () => {
  await app?.close();
  delete process.env.FLAMEBILL_E2E_INGEST_TOKEN;
});
beforeEach(() => truncateTables(db, ['profiles', 'dirty_windows']));

const url = (query: Record<string, string>): string => `${app.baseUrl}/ingest?${new URLSearchParams(query).toString()}`;
const count = async (): Promise<number> =>
  Number(((await db.query('SELECT count(*)::int AS n FROM profiles')) as Array<{ n: number }>)[0]!.n);

interface ProfileRow {
  service: string;
  profile_type: string;
  window_start: Date;
  window_end: Date;
  cpu_nanoseconds: string;
  wall_only: boolean;
  series_labels: Record<string, string>;
  byte_size: number;
  raw: Buffer;
  fold: Buffer;
  source: string;
}
const rows = (): Promise<ProfileRow[]> => db.query('SELECT * FROM profiles ORDER BY id') as Promise<ProfileRow[]>;

describe('POST /ingest stores what agents push', () => {
  it('stores a gzipped pprof (format=pprof) with its CPU time, labels and window, and marks the window dirty', async () => {
    const res = await post(
      url({
        name: 'checkout.cpu{env=prod,region=eu}',
        from: String(FROM),
        until: String(FROM + 10),
        format: 'pprof',
        spyName: 'gospy',
      }),
      GO_CPU,
      {
        headers: { ...AUTH, 'Content-Type': 'application/octet-stream' },
      },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'stored',
      service: 'checkout',
      window: WINDOW,
      profileType: 'cpu:nanoseconds',
      cpuNanoseconds: GO_CPU_NS.toString(),
    });
    const [row] = await rows();
    expect(row).toMatchObject({
      source: 'push',
      service: 'checkout',
      profile_type: 'cpu:nanoseconds',
      wall_only: false,
      byte_size: GO_CPU.length,
      series_labels: { env: 'prod', region: 'eu' },
    });
    expect(BigInt(row!.cpu_nanoseconds)).toBe(GO_CPU_NS);
    expect(row!.window_start.toISOString()).toBe(WINDOW);
    expect(row!.window_end.toISOString()).toBe('2026-11-22T04:00:00.000Z');
    expect(row!.raw.equals(GO_CPU)).toBe(true);
    expect(deserializeFold(row!.fold).total).toBe(GO_CPU_NS);
    const dirty = (await db.query('SELECT window_start FROM dirty_windows')) as Array<{ window_start: Date }>;
    expect(dirty.map((d) => d.window_start.toISOString())).toEqual([WINDOW]);
  });

  it('counts an identical retry once', async () => {
    const query = url({ name: 'checkout', from: String(FROM), until: String(FROM + 10), format: 'pprof' });
    const first = await post(query, GO_CPU, { headers: AUTH });
    const retry = await post(query, GO_CPU, { headers: AUTH });
    expect(first.body.status).toBe('stored');
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: 'duplicate', id: first.body.id });
    expect(await count()).toBe(1);
  });

  it('stores plain (not gzipped) pprof', async () => {
    const res = await post(url({ name: 'checkout', from: String(FROM), format: 'pprof' }), gunzipSync(GO_CPU), {
      headers: AUTH,
    });
    expect(res.body).toMatchObject({ status: 'stored', cpuNanoseconds: GO_CPU_NS.toString() });
  });

  it('stores multipart/form-data with a profile part and sample_type_config, as the Go SDK sends it (no format)', async () => {
    const form = new FormData();
    form.append('profile', new Blob([new Uint8Array(GO_CPU)]), 'profile.pprof');
    form.append(
      'sample_type_config',
      new Blob([JSON.stringify({ cpu: { units: 'samples', 'display-name': 'cpu', sampled: true } })]),
      'sample_type_config.json',
    );
    const response = await fetch(
      url({
        name: 'billing{pod=b-1}',
        from: String(FROM),
        until: String(FROM + 10),
        spyName: 'gospy',
        sampleRate: '100',
      }),
      {
        method: 'POST',
        body: form,
        headers: AUTH,
      },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'stored',
      service: 'billing',
      cpuNanoseconds: GO_CPU_NS.toString(),
    });
    const [row] = await rows();
    expect(row!.raw.equals(GO_CPU)).toBe(true); // the profile part, not the whole form
    expect(row!.series_labels).toEqual({ pod: 'b-1' });
  });

  it('stores folded text sent the way curl --data-binary does (urlencoded Content-Type, default format)', async () => {
    const samples = FOLDED.toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .reduce((sum, l) => sum + BigInt(l.slice(l.lastIndexOf(' ') + 1)), 0n);
    const res = await post(url({ name: 'java.cpu{env=prod}', from: String(FROM), until: String(FROM + 10) }), FOLDED, {
      headers: { ...AUTH, 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'stored',
      service: 'java',
      cpuNanoseconds: (samples * 10_000_000n).toString(),
    });
    expect((await rows())[0]!.raw.equals(FOLDED)).toBe(true);
  });

  it('accepts a chunked body (no Content-Length)', async () => {
    const res = await post(url({ name: 'checkout', from: String(FROM), format: 'pprof' }), GO_CPU, {
      headers: AUTH,
      chunked: 100,
    });
    expect(res.body).toMatchObject({ status: 'stored', cpuNanoseconds: GO_CPU_NS.toString() });
  });

  it('accepts a heap profile with 200 and stores nothing (not CPU time)', async () => {
    const res = await post(
      url({ name: 'shop', from: String(FROM), format: 'pprof', spyName: 'nodespy' }),
      fixture('grafana-pyroscope/nodejs-heap.pb.gz'),
      { headers: AUTH },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'skipped', reason: 'not-cpu', service: 'shop' });
    expect(await count()).toBe(0);
  });

  it('counts pushes in /metrics by status and outcome', async () => {
    await post(url({ name: 'checkout', from: String(FROM + 7), format: 'pprof' }), GO_CPU, { headers: AUTH });
    await post(url({ name: 'bad name', format: 'pprof' }), GO_CPU, { headers: AUTH });
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(
      Number(/^flamebill_ingest_requests_total\{status="200",outcome="stored"\} (\d+)$/m.exec(text)?.[1]),
    ).toBeGreaterThanOrEqual(1);
    expect(
      Number(/^flamebill_ingest_requests_total\{status="400",outcome="rejected"\} (\d+)$/m.exec(text)?.[1]),
    ).toBeGreaterThanOrEqual(1);
    expect(Number(/^flamebill_ingest_cpu_nanoseconds_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(
      Number(GO_CPU_NS),
    );
  });

  it('accepts a wall-only profile with 200 and stores nothing while countWallAsCpu is off', async () => {
    const res = await post(
      url({ name: 'shop', from: String(FROM), format: 'pprof' }),
      fixture('grafana-pyroscope/nodejs-wall.pb.gz'),
      { headers: AUTH },
    );
    expect(res.body).toMatchObject({ status: 'skipped', reason: 'wall-not-counted' });
    expect(await count()).toBe(0);
  });
});

describe('POST /ingest rejections change nothing', () => {
  const cases: Array<
    [
      string,
      () => Promise<{ status: number; body: Record<string, unknown>; headers?: Record<string, unknown> }>,
      number,
      RegExp,
    ]
  > = [
    ['no token', () => post(url({ name: 'a', format: 'pprof' }), GO_CPU), 401, /^missing credentials/],
    [
      'a wrong token',
      () => post(url({ name: 'a', format: 'pprof' }), GO_CPU, { headers: { Authorization: 'Bearer nope' } }),
      401,
      /^invalid token$/,
    ],
    [
      'a bad name',
      () => post(url({ name: 'my app{x=1}', format: 'pprof' }), GO_CPU, { headers: AUTH }),
      400,
      /^name: invalid service name: my app/,
    ],
    [
      'a bad label',
      () => post(url({ name: 'app{a-b=1}', format: 'pprof' }), GO_CPU, { headers: AUTH }),
      400,
      /^name: invalid label name: a-b/,
    ],
    [
      'no name',
      () => post(url({ format: 'pprof' }), GO_CPU, { headers: AUTH }),
      400,
      /^name: service name is required$/,
    ],
    [
      'a bad from',
      () => post(url({ name: 'a', from: 'yesterday', format: 'pprof' }), GO_CPU, { headers: AUTH }),
      400,
      /^from: expected a Unix time/,
    ],
    [
      'until before from',
      () =>
        post(url({ name: 'a', from: String(FROM), until: String(FROM - 1), format: 'pprof' }), GO_CPU, {
          headers: AUTH,
        }),
      400,
      /^until: /,
    ],
    [
      'an unknown folded profile type',
      () => post(url({ name: 'my.app' }), FOLDED, { headers: AUTH }),
      400,
      /^name: unknown profile type: app$/,
    ],
    [
      'a bad sampleRate',
      () => post(url({ name: 'a', sampleRate: 'fast' }), FOLDED, { headers: AUTH }),
      400,
      /^sampleRate: /,
    ],
    [
      'corrupt pprof',
      () => post(url({ name: 'a', format: 'pprof' }), gunzipSync(GO_CPU).subarray(0, 900), { headers: AUTH }),
      422,
      /^pprof: expected .*\(at byte \d+\)$/,
    ],
    [
      'a truncated gzip',
      () => post(url({ name: 'a', format: 'pprof' }), GO_CPU.subarray(0, 600), { headers: AUTH }),
      422,
      /^gzip: corrupt gzip stream/,
    ],
    [
      'a gzip bomb',
      () => post(url({ name: 'a', format: 'pprof' }), gzipSync(Buffer.alloc(20 * 1024 * 1024)), { headers: AUTH }),
      422,
      /^gzip: inflated size exceeds the limit/,
    ],
    [
      'garbage folded',
      () => post(url({ name: 'a' }), Buffer.from('not a profile\n'), { headers: AUTH }),
      422,
      /^folded: .*\(at line 1\)$/,
    ],
    [
      'a pprof sent as format=jfr',
      () => post(url({ name: 'a', format: 'jfr' }), GO_CPU, { headers: AUTH }),
      422,
      /^jfr: expected a chunk magic "FLR\\0"/,
    ],
    [
      'a broken multipart form',
      () =>
        post(url({ name: 'a' }), Buffer.from('--xyz\r\nContent-Disposition: form-data; name="profile"\r\n\r\nabc'), {
          headers: { ...AUTH, 'Content-Type': 'multipart/form-data; boundary=xyz' },
        }),
      422,
      /^multipart form: Unexpected end of form$/,
    ],
    [
      'an oversized body (Content-Length)',
      () => post(url({ name: 'a', format: 'pprof' }), Buffer.alloc(MAX_BODY + 1), { headers: AUTH }),
      413,
      /^request body too large: more than 1048576 bytes$/,
    ],
    [
      'an oversized chunked body',
      () =>
        post(url({ name: 'a', format: 'pprof' }), Buffer.alloc(3 * MAX_BODY), { headers: AUTH, chunked: 64 * 1024 }),
      413,
      /^request body too large/,
    ],
    [
      'an oversized multipart part',
      async () => {
        const form = new FormData();
        form.append('profile', new Blob([Buffer.alloc(MAX_BODY + 10)]), 'profile.pprof');
        const response = await fetch(url({ name: 'a' }), { method: 'POST', body: form, headers: AUTH });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      },
      413,
      /too large/,
    ],
  ];

  it.each(cases)('%s', async (_label, send, status, message) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.message).toMatch(message);
    expect(res.body.code).toBe(
      { 400: 'invalid_argument', 401: 'unauthenticated', 413: 'invalid_argument', 422: 'unknown' }[status],
    );
    expect(await count()).toBe(0);
    expect(((await db.query('SELECT count(*)::int AS n FROM dirty_windows')) as Array<{ n: number }>)[0]!.n).toBe(0);
  });

  it('keeps the connection usable after an early 413', async () => {
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = await post(url({ name: 'a', format: 'pprof' }), Buffer.alloc(4 * MAX_BODY), { headers: AUTH, agent });
      expect(big.status).toBe(413);
      const ok = await post(url({ name: 'checkout', from: String(FROM), format: 'pprof' }), GO_CPU, {
        headers: AUTH,
        agent,
      });
      expect(ok.body.status).toBe('stored');
    } finally {
      agent.destroy();
    }
  });

  it('accepts Basic auth with the token as password (Grafana Cloud style)', async () => {
    const basic = Buffer.from(`12345:${TOKEN}`).toString('base64');
    const res = await post(url({ name: 'checkout', from: String(FROM), format: 'pprof' }), GO_CPU, {
      headers: { Authorization: `Basic ${basic}` },
    });
    expect(res.body.status).toBe('stored');
  });
});

describe('POST /ingest rate limit', () => {
  it('answers 429 with Retry-After once a tenant is over its byte rate, and stores only what passed', async () => {
    const limited = await startTestApp({
      logLevel: 'warn',
      settings: {
        schedules: { enabled: false, demo: false },
        ingest: { maxBodyBytes: 40_000, rateLimit: { bytesPerSecond: 1000, burstBytes: 50_000 } },
      },
    });
    try {
      const body = FOLDED.subarray(0, FOLDED.lastIndexOf('\n', 30_000) + 1); // ~30 kB of whole lines
      const first = await post(`${limited.baseUrl}/ingest?name=java&from=${FROM}`, body);
      const second = await post(`${limited.baseUrl}/ingest?name=java&from=${FROM + 1}`, body);
      expect(first.body.status).toBe('stored');
      expect(second.status).toBe(429);
      expect(second.body).toMatchObject({ code: 'resource_exhausted' });
      expect(String(second.body.message)).toMatch(/^tenant anonymous is over its ingestion rate of 1000 bytes\/s$/);
      // Retry-After: the bytes missing from the bucket (burst minus the first push) at 1000 bytes/s, rounded up.
      const missing = body.length - (50_000 - body.length);
      expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(Math.ceil(missing / 1000) - 1);
      expect(Number(second.headers['retry-after'])).toBeLessThanOrEqual(Math.ceil(missing / 1000));
      expect(await count()).toBe(1);
    } finally {
      await limited.close();
    }
  });
});

describe('POST /ingest configuration', () => {
  it('refuses to start when a tenant token variable is not set', async () => {
    await expect(
      startTestApp({
        logLevel: 'fatal',
        settings: {
          schedules: { enabled: false, demo: false },
          ingest: { tenants: [{ name: 'x', tokenEnv: 'FLAMEBILL_E2E_UNSET_TOKEN' }] },
        },
      }),
    ).rejects.toThrow('ingest.tenants: tenant x: environment variable FLAMEBILL_E2E_UNSET_TOKEN is not set or empty');
  });
});
