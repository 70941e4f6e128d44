import { afterEach, describe, expect, it } from 'vitest';
import { foldProfile } from '../../src/domain/profile';
import { SourceHttpError } from '../../src/sources/http-client';
import { createSource } from '../../src/sources/source-factory';
import type { LoopbackServer } from './servers/loopback-server';
import { startParcaServer, type ParcaStoredProfile } from './servers/parca.server';
import { FIXTURE, fixtureBytes, HOUR_MS, NO_ABORT, RecordingLogger, sourceSettings, windowOf } from './source-test-kit';

const AGENT_CPU = 'parca_agent:samples:count:cpu:nanoseconds:delta';
const T0 = '2026-11-20T10:00:00.000Z';
const t0 = Date.parse(T0);

const stored: ParcaStoredProfile[] = [
  { labels: { job: 'checkout' }, profileType: AGENT_CPU, timeMs: t0 + 60_000, pprofGzip: fixtureBytes(FIXTURE.parcaProfile1) },
  { labels: { job: 'search' }, profileType: AGENT_CPU, timeMs: t0 + 120_000, pprofGzip: fixtureBytes(FIXTURE.goDevirt) },
  // Exactly at the next window's start: must not be counted in [t0, t0 + 1 h).
  { labels: { job: 'ledger' }, profileType: AGENT_CPU, timeMs: t0 + HOUR_MS, pprofGzip: fixtureBytes(FIXTURE.goInlineHot) },
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

describe('ParcaSource against a grpc-gateway server on loopback', () => {
  it('lists services from the values of the service label', async () => {
    server = await startParcaServer({ authorization: 'Bearer tok', profiles: stored });

    const services = await parca(server.url).listServices(windowOf(T0, 1), NO_ABORT);

    expect(services).toEqual(['checkout', 'search']);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'GET', path: '/api/profiles/labels/job/values' });
    expect(Object.fromEntries(request!.query)).toEqual({ start: '2026-11-20T10:00:00.000Z', end: '2026-11-20T10:59:59.999Z' });
    expect(request!.headers).toMatchObject({ authorization: 'Bearer tok', accept: 'application/json' });
  });

  it('fetches a merged profile as gzipped pprof decoded from the base64 report', async () => {
    server = await startParcaServer({ authorization: 'Bearer tok', profiles: stored });
    const window = windowOf(T0, 1);

    const profiles = await parca(server.url).fetchProfiles('checkout', window, NO_ABORT);

    expect(profiles).toHaveLength(1);
    expect(Buffer.from(profiles[0]!.bytes).equals(Buffer.from(fixtureBytes(FIXTURE.parcaProfile1)))).toBe(true);
    expect(foldProfile(profiles[0]!.bytes).total).toBe(FIXTURE.parcaProfile1.cpuTotal);
    expect(profiles[0]).toMatchObject({ profileType: AGENT_CPU, seriesLabels: { job: 'checkout' }, range: window });
    const [request] = server.requests;
    expect(request!.path).toBe('/api/profiles/query');
    expect(Object.fromEntries(request!.query)).toEqual({
      'merge.start': '2026-11-20T10:00:00.000Z',
      'merge.end': '2026-11-20T10:59:59.999Z',
      mode: 'MODE_MERGE',
      reportType: 'REPORT_TYPE_PPROF',
      'merge.query': `${AGENT_CPU}{job="checkout"}`,
    });
  });

  it('does not count a profile stamped exactly at the window end', async () => {
    server = await startParcaServer({ authorization: 'Bearer tok', profiles: stored });
    const source = parca(server.url);

    expect(await source.fetchProfiles('ledger', windowOf(T0, 1), NO_ABORT)).toEqual([]);
    const next = await source.fetchProfiles('ledger', windowOf('2026-11-20T11:00:00.000Z', 1), NO_ABORT);
    expect(next.map((profile) => foldProfile(profile.bytes).total)).toEqual([FIXTURE.goInlineHot.cpuTotal]);
  });

  it('uses a configured service label and profile type', async () => {
    server = await startParcaServer({
      authorization: 'Bearer tok',
      profiles: [{ labels: { comm: 'api' }, profileType: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds:delta', timeMs: t0 + 1, pprofGzip: fixtureBytes(FIXTURE.goDevirt) }],
    });
    const source = parca(server.url, { serviceLabel: 'comm', profileType: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds:delta' });

    expect(await source.listServices(windowOf(T0, 1), NO_ABORT)).toEqual(['api']);
    const profiles = await source.fetchProfiles('api', windowOf(T0, 1), NO_ABORT);
    expect(profiles.map((profile) => foldProfile(profile.bytes).total)).toEqual([FIXTURE.goDevirt.cpuTotal]);
  });

  it('reports a gateway 4xx with its status and JSON body, without retrying', async () => {
    server = await startParcaServer({ authorization: 'Bearer tok', profiles: stored });
    const source = parca(server.url, { auth: undefined });

    const failure = await source.fetchProfiles('checkout', windowOf(T0, 1), NO_ABORT).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SourceHttpError);
    expect((failure as Error).message).toContain('returned HTTP 401 Unauthorized: {"code":16,"message":"unauthenticated","details":[]}');
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
