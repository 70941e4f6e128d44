import { afterEach, describe, expect, it } from 'vitest';
import { foldProfile } from '../../src/domain/profile';
import { MissingSecretError } from '../../src/sources/http-auth';
import { SourceHttpError, SourceUnavailableError } from '../../src/sources/http-client';
import { createSource } from '../../src/sources/source-factory';
import type { LoopbackServer } from './servers/loopback-server';
import { QueryLookbackError } from '../../src/sources/pyroscope.source';
import {
  decodeSelectMergeProfileRequest,
  PYROSCOPE_PLACEHOLDER_PROFILE,
  startPyroscopeServer,
  type StoredProfile,
} from './servers/pyroscope.server';
import { encodeSelectMergeProfileRequest } from '../../src/sources/pyroscope-wire';
import { FIXTURE, fixturePprof, HOUR_MS, NO_ABORT, RecordingLogger, sourceSettings, windowOf } from './source-test-kit';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const T0 = '2026-11-20T00:00:00.000Z';
const t0 = Date.parse(T0);
/** The test's "now" for both the server and the source: two days after T0, inside the 7-day lookback. */
const NOW_MS = t0 + 2 * 24 * HOUR_MS;
const ENV = { PYRO_TOKEN: 's3cret', PYRO_USER: 'flamebill', PYRO_PASSWORD: 'pa:ss' };

const stored: StoredProfile[] = [
  {
    labels: { service_name: 'kafka' },
    profileTypeId: CPU,
    timeMs: t0 + 10 * 60_000,
    pprof: fixturePprof(FIXTURE.kafkaCpu0),
  },
  {
    labels: { service_name: 'kafka' },
    profileTypeId: CPU,
    timeMs: t0 + 25 * HOUR_MS,
    pprof: fixturePprof(FIXTURE.kafkaCpu1),
  },
  {
    labels: { service_name: 'checkout' },
    profileTypeId: CPU,
    timeMs: t0 + 20 * 60_000,
    pprof: fixturePprof(FIXTURE.kafkaCpu1),
  },
  {
    labels: { service_name: 'heap-only' },
    profileTypeId: 'memory:alloc_space:bytes:space:bytes',
    timeMs: t0 + 5 * 60_000,
    pprof: new Uint8Array([8, 1]),
  },
];

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function pyroscope(url: string, overrides: Record<string, unknown> = {}, logger = new RecordingLogger()) {
  const settings = sourceSettings({
    kind: 'pyroscope',
    name: 'prod',
    url,
    tenantId: 'payments',
    auth: { type: 'bearer', tokenEnv: 'PYRO_TOKEN' },
    http: { timeoutSeconds: 2, maxAttempts: 3, backoffBaseMs: 20, backoffMaxMs: 100 },
    profileTypeId: CPU,
    ...overrides,
  });
  return createSource(settings, { logger, env: ENV, now: () => new Date(NOW_MS) });
}

describe('PyroscopeSource against a Connect server on loopback', () => {
  it('lists the services that have CPU profiles in the window with the LabelValues call', async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stored,
    });

    const services = await pyroscope(server.url).listServices(windowOf(T0, 1), NO_ABORT);

    expect(services).toEqual(['checkout', 'kafka']);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/querier.v1.QuerierService/LabelValues' });
    expect(request!.headers).toMatchObject({
      'content-type': 'application/json',
      'connect-protocol-version': '1',
      'x-scope-orgid': 'payments',
      authorization: 'Bearer s3cret',
    });
    expect(JSON.parse(request!.body.toString())).toEqual({
      name: 'service_name',
      matchers: [`{__profile_type__="${CPU}"}`],
      start: t0,
      end: t0 + HOUR_MS - 1,
    });
  });

  it('fetches the merged profile as pprof bytes through a protobuf request', async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stored,
    });
    const window = windowOf(T0, 1);

    const profiles = await pyroscope(server.url).fetchProfiles('kafka', window, NO_ABORT);

    expect(profiles).toHaveLength(1);
    const [profile] = profiles;
    expect(Buffer.from(profile!.bytes).equals(Buffer.from(fixturePprof(FIXTURE.kafkaCpu0)))).toBe(true);
    expect(profile).toMatchObject({
      profileType: CPU,
      seriesLabels: { service_name: 'kafka' },
      contentType: 'application/proto',
      range: window,
      origin: `${server.url}/querier.v1.QuerierService/SelectMergeProfile`,
    });
    expect(foldProfile(profile!.bytes).total).toBe(FIXTURE.kafkaCpu0.cpuTotal);

    const [request] = server.requests;
    expect(request!.headers).toMatchObject({ 'content-type': 'application/proto', 'connect-protocol-version': '1' });
    // undici asks for gzip and the server compressed the answer (Content-Encoding), as connect-go does.
    expect(request!.headers['accept-encoding']).toMatch(/gzip/);
    expect(decodeSelectMergeProfileRequest(request!.body)).toEqual({
      profileTypeId: CPU,
      labelSelector: '{service_name="kafka"}',
      start: BigInt(t0),
      end: BigInt(t0 + HOUR_MS - 1),
    });
  });

  it('returns no profile for a service without data in the window', async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stored,
    });

    const profiles = await pyroscope(server.url).fetchProfiles('kafka', windowOf('2026-11-20T05:00:00Z', 1), NO_ABORT);

    expect(profiles).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('splits a 30 h window into a 24 h and a 6 h query, one profile each', async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stored,
    });
    const window = windowOf(T0, 30);

    const profiles = await pyroscope(server.url).fetchProfiles('kafka', window, NO_ABORT);

    const ranges = server.requests.map((request) => {
      const decoded = decodeSelectMergeProfileRequest(request.body);
      return [decoded.start, decoded.end];
    });
    expect(ranges).toEqual([
      [BigInt(t0), BigInt(t0 + 24 * HOUR_MS - 1)],
      [BigInt(t0 + 24 * HOUR_MS), BigInt(t0 + 30 * HOUR_MS - 1)],
    ]);
    expect(profiles.map((profile) => [profile.range.start.getTime(), profile.range.end.getTime()])).toEqual([
      [t0, t0 + 24 * HOUR_MS],
      [t0 + 24 * HOUR_MS, t0 + 30 * HOUR_MS],
    ]);
    expect(profiles.map((profile) => foldProfile(profile.bytes).total)).toEqual([
      FIXTURE.kafkaCpu0.cpuTotal,
      FIXTURE.kafkaCpu1.cpuTotal,
    ]);
  });

  it('fails on a 4xx without retrying, with the status and the server message in the error', async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stored,
    });
    // Configured for 48 h while the server keeps Pyroscope's 24 h default: the server refuses the query.
    const source = pyroscope(server.url, { maxQueryLengthHours: 48 });

    const failure = await source.fetchProfiles('kafka', windowOf(T0, 30), NO_ABORT).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SourceHttpError);
    expect((failure as SourceHttpError).status).toBe(400);
    expect((failure as Error).message).toContain('returned HTTP 400 Bad Request');
    expect((failure as Error).message).toContain(
      '"code":"invalid_argument","message":"the query time range exceeds the limit (query length: 29h59m59.999s, limit: 24h0m0s)"',
    );
    expect(server.requests).toHaveLength(1);
  });

  it('retries a 500 and succeeds on the next attempt', async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stored,
    });
    server.failNext({
      kind: 'status',
      status: 500,
      body: '{"code":"internal","message":"store-gateway: connection refused"}',
    });
    const logger = new RecordingLogger();

    const profiles = await pyroscope(server.url, {}, logger).fetchProfiles('kafka', windowOf(T0, 1), NO_ABORT);

    expect(profiles).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
    expect(Buffer.compare(server.requests[0]!.body, server.requests[1]!.body)).toBe(0);
    const warning = logger.lines.find((line) => line.level === 'warn');
    expect(warning?.message).toBe('source call failed, retrying');
    expect(warning?.fields).toMatchObject({ source: 'prod', attempt: 1, maxAttempts: 3 });
    expect(String(warning?.fields.reason)).toContain('HTTP 500 Internal Server Error: {"code":"internal"');
  });

  it('gives up on a server that never answers after the bounded attempts, with a clear error', async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stored,
    });
    server.failNext({ kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' });
    const source = pyroscope(server.url, {
      http: { timeoutSeconds: 0.3, maxAttempts: 3, backoffBaseMs: 20, backoffMaxMs: 100 },
    });

    const began = performance.now();
    const failure = await source.fetchProfiles('kafka', windowOf(T0, 1), NO_ABORT).catch((error: unknown) => error);
    const elapsedMs = performance.now() - began;

    expect(failure).toBeInstanceOf(SourceUnavailableError);
    expect((failure as Error).message).toBe(
      `prod: POST ${server.url}/querier.v1.QuerierService/SelectMergeProfile failed after 3 attempt(s): no complete answer within 300 ms`,
    );
    expect(server.requests).toHaveLength(3);
    // Three 300 ms attempts and two short backoffs: bounded, never the hung server's pace.
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
    expect(elapsedMs).toBeLessThan(3000);
  });

  it('stops at once, without retrying, when the caller aborts', async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stored,
    });
    server.failNext({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 100);

    const failure = await pyroscope(server.url)
      .fetchProfiles('kafka', windowOf(T0, 1), controller.signal)
      .catch((error: unknown) => error);

    expect((failure as Error).message).toBe('shutting down');
    expect(server.requests).toHaveLength(1);
  });

  it('without the tenant header a multi-tenant Pyroscope answers 401 no org id', async () => {
    server = await startPyroscopeServer({ nowMs: NOW_MS, tenantId: 'payments', profiles: stored });
    const source = pyroscope(server.url, { tenantId: undefined, auth: undefined });

    const failure = await source.listServices(windowOf(T0, 1), NO_ABORT).catch((error: unknown) => error);

    expect((failure as SourceHttpError).status).toBe(401);
    expect((failure as Error).message).toContain('no org id');
  });

  it('sends basic auth from the environment', async () => {
    const expected = `Basic ${Buffer.from('flamebill:pa:ss').toString('base64')}`;
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: expected,
      profiles: stored,
    });
    const source = pyroscope(server.url, {
      auth: { type: 'basic', usernameEnv: 'PYRO_USER', passwordEnv: 'PYRO_PASSWORD' },
    });

    await expect(source.listServices(windowOf(T0, 1), NO_ABORT)).resolves.toEqual(['checkout', 'kafka']);
  });

  it('refuses to start when a named secret is not in the environment', () => {
    const settings = sourceSettings({
      kind: 'pyroscope',
      name: 'prod',
      url: 'http://127.0.0.1:1',
      auth: { type: 'bearer', tokenEnv: 'ABSENT_TOKEN' },
    });

    expect(() => createSource(settings, { logger: new RecordingLogger(), env: {} })).toThrow(MissingSecretError);
    expect(() => createSource(settings, { logger: new RecordingLogger(), env: {} })).toThrow(
      'source "prod": environment variable ABSENT_TOKEN is not set',
    );
  });

  it('keeps a base URL path prefix such as a Grafana data source proxy', async () => {
    server = await startPyroscopeServer({ nowMs: NOW_MS, profiles: stored });
    const source = pyroscope(`${server.url}/api/datasources/proxy/uid/abc/`, { tenantId: undefined, auth: undefined });

    await source.listServices(windowOf(T0, 1), NO_ABORT).catch(() => undefined);

    expect(server.requests[0]!.path).toBe('/api/datasources/proxy/uid/abc/querier.v1.QuerierService/LabelValues');
  });

  it('answers a service without data with the placeholder profile, which the source reads as no data by its content', async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stored,
    });
    const request = encodeSelectMergeProfileRequest({
      profileTypeId: CPU,
      labelSelector: '{service_name="kafka"}',
      startMs: t0 + 5 * HOUR_MS,
      endMs: t0 + 6 * HOUR_MS - 1,
    });
    const raw = await fetch(`${server.url}/querier.v1.QuerierService/SelectMergeProfile`, {
      method: 'POST',
      headers: { 'content-type': 'application/proto', 'x-scope-orgid': 'payments', authorization: 'Bearer s3cret' },
      body: request,
    });
    expect(new Uint8Array(await raw.arrayBuffer())).toEqual(PYROSCOPE_PLACEHOLDER_PROFILE);
    expect(await pyroscope(server.url).fetchProfiles('kafka', windowOf('2026-11-20T05:00:00Z', 1), NO_ABORT)).toEqual(
      [],
    );
  });
});

describe("PyroscopeSource and the server's max_query_lookback", () => {
  const old = windowOf('2026-11-10T00:00:00Z', 1); // 12 days before NOW_MS
  const stale: StoredProfile[] = [
    {
      labels: { service_name: 'kafka' },
      profileTypeId: CPU,
      timeMs: Date.parse('2026-11-10T00:10:00Z'),
      pprof: fixturePprof(FIXTURE.kafkaCpu0),
    },
  ];

  it('refuses a window past the lookback with an error that says so, without asking', async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stale,
    });
    const source = pyroscope(server.url);
    for (const call of [() => source.listServices(old, NO_ABORT), () => source.fetchProfiles('kafka', old, NO_ABORT)]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueryLookbackError);
      expect((error as Error).message).toMatch(
        /starts before the server's max_query_lookback \(7 d, so nothing before 2026-11-15T00:00:00\.000Z\).*bill zero/,
      );
    }
    expect(server.requests).toHaveLength(0);
  });

  it('is what a real Pyroscope would otherwise answer empty, with no error; a configured lookback lets it through', async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stale,
    });
    // With the check off, the server's silence shows: the data exists, the answer is an empty profile.
    expect(await pyroscope(server.url, { maxQueryLookbackDays: 0 }).fetchProfiles('kafka', old, NO_ABORT)).toEqual([]);
    await server.close();
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      maxQueryLookbackMs: 30 * 24 * HOUR_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: stale,
    });
    const profiles = await pyroscope(server.url, { maxQueryLookbackDays: 30 }).fetchProfiles('kafka', old, NO_ABORT);
    expect(profiles.map((p) => foldProfile(p.bytes).total)).toEqual([FIXTURE.kafkaCpu0.cpuTotal]);
  });
});

describe('PyroscopeSource discovers the CPU-bearing profile types', () => {
  const NODE_CPU = 'wall:cpu:nanoseconds:wall:nanoseconds';
  // As Pyroscope files a Go push (process_cpu) and a Node push (any `wall` sample type files it under `wall`).
  const fleet: StoredProfile[] = [
    {
      labels: { service_name: 'checkout' },
      profileTypeId: CPU,
      timeMs: t0 + 10 * 60_000,
      pprof: fixturePprof(FIXTURE.kafkaCpu0),
    },
    {
      labels: { service_name: 'checkout' },
      profileTypeId: 'process_cpu:samples:count:cpu:nanoseconds',
      timeMs: t0 + 10 * 60_000,
      pprof: fixturePprof(FIXTURE.kafkaCpu0),
    },
    {
      labels: { service_name: 'shop' },
      profileTypeId: NODE_CPU,
      timeMs: t0 + 20 * 60_000,
      pprof: fixturePprof(FIXTURE.nodeWallCpu),
    },
    {
      labels: { service_name: 'shop' },
      profileTypeId: 'wall:wall:nanoseconds:wall:nanoseconds',
      timeMs: t0 + 20 * 60_000,
      pprof: fixturePprof(FIXTURE.nodeWallCpu),
    },
    {
      labels: { service_name: 'heap-only' },
      profileTypeId: 'memory:alloc_space:bytes:space:bytes',
      timeMs: t0 + 5 * 60_000,
      pprof: new Uint8Array([8, 1]),
    },
  ];

  it("lists services of every cpu/nanoseconds type and pulls Node's wall:cpu profile, billed as /ingest bills it", async () => {
    server = await startPyroscopeServer({
      nowMs: NOW_MS,
      tenantId: 'payments',
      authorization: 'Bearer s3cret',
      profiles: fleet,
    });
    const source = pyroscope(server.url, { profileTypeId: undefined });
    expect(await source.listServices(windowOf(T0, 1), NO_ABORT)).toEqual(['checkout', 'shop']);
    expect(server.requests.map((r) => r.path.split('/').pop())).toEqual(['ProfileTypes', 'LabelValues', 'LabelValues']);
    expect(
      server.requests.slice(1).map((r) => (JSON.parse(r.body.toString()) as { matchers: string[] }).matchers),
    ).toEqual([[`{__profile_type__="${CPU}"}`], [`{__profile_type__="${NODE_CPU}"}`]]);
    const shop = await source.fetchProfiles('shop', windowOf(T0, 1), NO_ABORT);
    expect(shop.map((p) => [p.profileType, foldProfile(p.bytes, { sampleType: 'cpu' }).total])).toEqual([
      [NODE_CPU, FIXTURE.nodeWallCpu.cpuTotal],
    ]);
    const checkout = await source.fetchProfiles('checkout', windowOf(T0, 1), NO_ABORT);
    expect(checkout.map((p) => [p.profileType, foldProfile(p.bytes).total])).toEqual([
      [CPU, FIXTURE.kafkaCpu0.cpuTotal],
    ]);
  });
});
