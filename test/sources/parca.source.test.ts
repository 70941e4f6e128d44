import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { foldProfile } from '../../src/domain/profile';
import { createSource } from '../../src/sources/source-factory';
import type { LoopbackServer } from './servers/loopback-server';
import { emptyMergedPprof, startParcaServer, type ParcaStoredProfile } from './servers/parca.server';
import { FIXTURE, fixtureBytes, HOUR_MS, NO_ABORT, RecordingLogger, sourceSettings, windowOf } from './source-test-kit';

const AGENT_CPU = 'parca_agent:samples:count:cpu:nanoseconds:delta';
const T0 = '2026-11-20T10:00:00.000Z';
const t0 = Date.parse(T0);

const stored: ParcaStoredProfile[] = [
  {
    labels: { job: 'checkout' },
    profileType: AGENT_CPU,
    timeMs: t0 + 60_000,
    pprofGzip: fixtureBytes(FIXTURE.parcaProfile1),
  },
  {
    labels: { job: 'search' },
    profileType: AGENT_CPU,
    timeMs: t0 + 120_000,
    pprofGzip: fixtureBytes(FIXTURE.goDevirt),
  },
  // Exactly at the next window's start: must not be counted in [t0, t0 + 1 h).
  {
    labels: { job: 'ledger' },
    profileType: AGENT_CPU,
    timeMs: t0 + HOUR_MS,
    pprofGzip: fixtureBytes(FIXTURE.goInlineHot),
  },
];

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function parca(url: string, overrides: Record<string, unknown> = {}) {
  const settings = sourceSettings({
    kind: 'parca',
    name: 'parca',
    url,
    auth: { type: 'bearer', tokenEnv: 'PARCA_TOKEN' },
    http: { timeoutSeconds: 2, maxAttempts: 2, backoffBaseMs: 10, backoffMaxMs: 50 },
    ...overrides,
  });
  return createSource(settings, { logger: new RecordingLogger(), env: { PARCA_TOKEN: 'tok' } });
}

/** The message of a recorded gRPC-web request (after the 5-byte frame header). */
const message = (body: Buffer): Buffer => body.subarray(5);

describe('ParcaSource over gRPC-web against a Parca-like server on loopback', () => {
  it('lists services from Values, sending the profile type and strict bounds around the window', async () => {
    server = await startParcaServer({
      authorization: 'Bearer tok',
      profiles: [
        ...stored,
        // At the window's first instant: listed (the bounds are strict, so the source asks from 1 ns before).
        { labels: { job: 'edge' }, profileType: AGENT_CPU, timeMs: t0, pprofGzip: fixtureBytes(FIXTURE.goDevirt) },
        // A service with memory profiles only: not listed, since profile_type is sent.
        {
          labels: { job: 'heap-only' },
          profileType: 'memory:alloc_space:bytes:space:bytes:delta',
          timeMs: t0 + 60_000,
          pprofGzip: fixtureBytes(FIXTURE.goDevirt),
        },
      ],
    });

    const services = await parca(server.url).listServices(windowOf(T0, 1), NO_ABORT);

    expect(services).toEqual(['checkout', 'edge', 'search']);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/parca.query.v1alpha1.QueryService/Values' });
    expect(request!.headers).toMatchObject({
      authorization: 'Bearer tok',
      'content-type': 'application/grpc-web+proto',
      'x-grpc-web': '1',
    });
    expect(message(request!.body).includes(Buffer.from(AGENT_CPU))).toBe(true);
  });

  it('fetches a merged profile whole as gzipped pprof from the Query pprof report', async () => {
    server = await startParcaServer({ authorization: 'Bearer tok', profiles: stored });
    const window = windowOf(T0, 1);

    const profiles = await parca(server.url).fetchProfiles('checkout', window, NO_ABORT);

    expect(profiles).toHaveLength(1);
    expect(Buffer.from(profiles[0]!.bytes).equals(Buffer.from(fixtureBytes(FIXTURE.parcaProfile1)))).toBe(true);
    expect(foldProfile(profiles[0]!.bytes).total).toBe(FIXTURE.parcaProfile1.cpuTotal);
    expect(profiles[0]).toMatchObject({ profileType: AGENT_CPU, seriesLabels: { job: 'checkout' }, range: window });
    expect(server.requests.map((r) => r.path)).toEqual(['/parca.query.v1alpha1.QueryService/Query']);
    expect(message(server.requests[0]!.body).includes(Buffer.from(`${AGENT_CPU}{job="checkout"}`))).toBe(true);
  });

  it('reads an empty merge (a gzipped profile with sample types and no sample) as no data', async () => {
    server = await startParcaServer({ authorization: 'Bearer tok', profiles: stored });
    expect(await parca(server.url).fetchProfiles('nobody', windowOf(T0, 1), NO_ABORT)).toEqual([]);
    // What the server sent is not empty: a real gzipped profile with the query's types.
    expect(foldProfile(emptyMergedPprof(AGENT_CPU)).sampleTypes).toEqual([{ type: 'samples', unit: 'count' }]);
  });

  it('does not count a profile stamped exactly at the window end', async () => {
    server = await startParcaServer({ authorization: 'Bearer tok', profiles: stored });
    const source = parca(server.url);

    expect(await source.fetchProfiles('ledger', windowOf(T0, 1), NO_ABORT)).toEqual([]);
    expect(await source.listServices(windowOf(T0, 1), NO_ABORT)).not.toContain('ledger');
    const next = await source.fetchProfiles('ledger', windowOf('2026-11-20T11:00:00.000Z', 1), NO_ABORT);
    expect(next.map((profile) => foldProfile(profile.bytes).total)).toEqual([FIXTURE.goInlineHot.cpuTotal]);
  });

  it('gets a merged profile whole where the REST gateway fails at its receive limit, and applies its own limit', async () => {
    // The gateway's 4 MiB limit, scaled down to 100 kB under this real 236 kB Go profile (go tool pprof: 104.21 s of CPU).
    const big = readFileSync(join(__dirname, '../fixtures/profiles/golang-go/default.pgo'));
    const bigTotal = BigInt(
      (
        JSON.parse(
          readFileSync(join(__dirname, '../fixtures/corpus/profile-refs/golang-go/default.pgo.cpu.top.json'), 'utf8'),
        ) as { total: number }
      ).total,
    );
    server = await startParcaServer({
      authorization: 'Bearer tok',
      gatewayRecvLimitBytes: 100_000,
      profiles: [{ labels: { job: 'big' }, profileType: AGENT_CPU, timeMs: t0 + 1, pprofGzip: big }],
    });
    const rest = await fetch(
      `${server.url}/api/profiles/query?${new URLSearchParams({ mode: 'MODE_MERGE', reportType: 'REPORT_TYPE_PPROF', 'merge.query': `${AGENT_CPU}{job="big"}`, 'merge.start': '2026-11-20T10:00:00Z', 'merge.end': '2026-11-20T10:59:59Z' }).toString()}`,
      { headers: { authorization: 'Bearer tok' } },
    );
    expect(rest.status).toBe(429);
    expect(((await rest.json()) as { message: string }).message).toMatch(/received message larger than max/);

    const whole = await parca(server.url).fetchProfiles('big', windowOf(T0, 1), NO_ABORT);
    expect(whole.map((p) => foldProfile(p.bytes, { sampleType: 'cpu' }).total)).toEqual([bigTotal]);

    const capped = await parca(server.url, { maxMessageBytes: 100_000 })
      .fetchProfiles('big', windowOf(T0, 1), NO_ABORT)
      .catch((e: unknown) => e);
    expect((capped as Error).message).toMatch(
      /Query at .*: received message larger than max \(\d+ vs\. 100000\); raise maxMessageBytes of the source/,
    );
  });

  it('uses a configured service label and profile type', async () => {
    server = await startParcaServer({
      authorization: 'Bearer tok',
      profiles: [
        {
          labels: { comm: 'api' },
          profileType: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds:delta',
          timeMs: t0 + 1,
          pprofGzip: fixtureBytes(FIXTURE.goDevirt),
        },
      ],
    });
    const source = parca(server.url, {
      serviceLabel: 'comm',
      profileType: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds:delta',
    });

    expect(await source.listServices(windowOf(T0, 1), NO_ABORT)).toEqual(['api']);
    const profiles = await source.fetchProfiles('api', windowOf(T0, 1), NO_ABORT);
    expect(profiles.map((profile) => foldProfile(profile.bytes).total)).toEqual([FIXTURE.goDevirt.cpuTotal]);
  });

  it('reports a gRPC status with its code and message, without retrying', async () => {
    server = await startParcaServer({ authorization: 'Bearer tok', profiles: stored });
    const source = parca(server.url, { auth: undefined });

    const failure = await source.fetchProfiles('checkout', windowOf(T0, 1), NO_ABORT).catch((error: unknown) => error);

    expect((failure as Error).message).toMatch(/^parca: Query at .*: gRPC status UNAUTHENTICATED: unauthenticated$/);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a 503 from a proxy in front of Parca', async () => {
    server = await startParcaServer({ authorization: 'Bearer tok', profiles: stored });
    server.failNext({ kind: 'status', status: 503, body: 'upstream connect error' });

    const profiles = await parca(server.url).fetchProfiles('search', windowOf(T0, 1), NO_ABORT);

    expect(profiles.map((profile) => foldProfile(profile.bytes).total)).toEqual([FIXTURE.goDevirt.cpuTotal]);
    expect(server.requests).toHaveLength(2);
  });
});
