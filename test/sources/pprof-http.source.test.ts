import { afterEach, describe, expect, it } from 'vitest';
import { foldProfile } from '../../src/domain/profile';
import { SourceBusyError } from '../../src/sources';
import { withSeconds } from '../../src/sources/pprof-http.source';
import { createSource } from '../../src/sources/source-factory';
import { startGoPprofServer, type GoCpuProfiler } from './servers/go-pprof.server';
import type { LoopbackServer } from './servers/loopback-server';
import { FIXTURE, fixtureBytes, NO_ABORT, RecordingLogger, sourceSettings, windowOf } from './source-test-kit';

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close().catch(() => undefined)));
});

async function goProgram(profile: Uint8Array, msPerSecond: number, profiler?: GoCpuProfiler): Promise<LoopbackServer> {
  const server = await startGoPprofServer({ profile, msPerSecond }, profiler);
  servers.push(server);
  return server;
}

const WINDOW = windowOf('2026-11-20T10:00:00Z', 1);

describe('PprofHttpSource against Go net/http/pprof endpoints on loopback', () => {
  it('scrapes every target of a service in parallel and leaves out a dead one', async () => {
    // Two live programs whose 1 s capture takes a real second each, and one that never answers.
    const first = await goProgram(fixtureBytes(FIXTURE.goDevirt), 1000);
    const second = await goProgram(fixtureBytes(FIXTURE.goInlineHot), 1000);
    const dead = await goProgram(fixtureBytes(FIXTURE.goDevirt), 1000);
    dead.failNext({ kind: 'hang' });
    const logger = new RecordingLogger();
    const settings = sourceSettings({
      kind: 'pprof-http',
      name: 'go-fleet',
      seconds: 1,
      timeoutSlackSeconds: 0.5,
      http: { maxAttempts: 1 },
      services: {
        checkout: [
          `${first.url}/debug/pprof/profile`,
          `${second.url}/debug/pprof/profile?seconds=1`,
          `${dead.url}/debug/pprof/profile`,
        ],
      },
    });
    const source = createSource(settings, { logger });

    const began = performance.now();
    const profiles = await source.fetchProfiles('checkout', WINDOW, NO_ABORT);
    const elapsedMs = performance.now() - began;

    expect(profiles.map((profile) => foldProfile(profile.bytes).total)).toEqual([
      FIXTURE.goDevirt.cpuTotal,
      FIXTURE.goInlineHot.cpuTotal,
    ]);
    expect(profiles[0]).toMatchObject({
      profileType: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
      seriesLabels: { service_name: 'checkout', instance: new URL(first.url).host },
      contentType: 'application/octet-stream',
      origin: `${first.url}/debug/pprof/profile?seconds=1`,
    });
    expect(profiles[0]!.range.end.getTime() - profiles[0]!.range.start.getTime()).toBeGreaterThanOrEqual(990);
    // In parallel: about the dead target's 1.5 s timeout; one after another would take 1 + 1 + 1.5 s.
    expect(elapsedMs).toBeGreaterThanOrEqual(1400);
    expect(elapsedMs).toBeLessThan(3000);
    for (const server of [first, second, dead]) {
      expect(server.requests.map((request) => `${request.method} ${request.path}?${request.query}`)).toEqual([
        'GET /debug/pprof/profile?seconds=1',
      ]);
    }
    expect(logger.lines.filter((line) => line.level === 'warn').map((line) => line.fields.target)).toEqual([
      `${dead.url}/debug/pprof/profile`,
    ]);
  });

  it('fails when every target of the service fails, naming each failure', async () => {
    const notFound = await goProgram(fixtureBytes(FIXTURE.goDevirt), 1);
    const closed = await goProgram(fixtureBytes(FIXTURE.goDevirt), 1);
    await closed.close(); // nothing listens on its port any more
    const settings = sourceSettings({
      kind: 'pprof-http',
      name: 'go-fleet',
      http: { maxAttempts: 1 },
      services: { search: [`${notFound.url}/debug/pprof/profil`, `${closed.url}/debug/pprof/profile`] },
    });
    const source = createSource(settings, { logger: new RecordingLogger() });

    const failure = await source.fetchProfiles('search', WINDOW, NO_ABORT).catch((error: unknown) => error);

    expect((failure as Error).message).toMatch(/^go-fleet: every pprof target of "search" failed: /);
    expect((failure as Error).message).toContain('returned HTTP 404 Not Found: Unknown profile');
    expect((failure as Error).message).toContain(
      `connection error: connect ECONNREFUSED ${new URL(closed.url).host} (ECONNREFUSED)`,
    );
  });

  it('records a target whose CPU profiler is in use as busy, asks it once, and captures at the next fetch', async () => {
    // One program profiled by another agent (pyroscope-go), one free: the busy one is left out, not retried.
    const profiler: GoCpuProfiler = { otherProfiler: true, capturing: false, refused: 0 };
    const busy = await goProgram(fixtureBytes(FIXTURE.goDevirt), 5, profiler);
    const free = await goProgram(fixtureBytes(FIXTURE.goInlineHot), 5);
    const logger = new RecordingLogger();
    const settings = sourceSettings({
      kind: 'pprof-http',
      name: 'go-fleet',
      seconds: 1,
      http: { maxAttempts: 4, backoffBaseMs: 1 },
      services: {
        checkout: [`${busy.url}/debug/pprof/profile`, `${free.url}/debug/pprof/profile`],
        billing: [`${busy.url}/debug/pprof/profile`],
      },
    });
    const source = createSource(settings, { logger });
    const profiles = await source.fetchProfiles('checkout', WINDOW, NO_ABORT);
    expect(profiles.map((p) => foldProfile(p.bytes).total)).toEqual([FIXTURE.goInlineHot.cpuTotal]);
    expect(profiler.refused).toBe(1);
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'pprof target busy (another CPU profile runs in it), left out until the next schedule',
    ]);
    // Every target busy: the service is busy (the work runner records it so), after one request, not four.
    const error = await source.fetchProfiles('billing', WINDOW, NO_ABORT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceBusyError);
    expect((error as Error).message).toMatch(
      /every pprof target of "billing" is busy with another CPU profile: .*HTTP 500.*Could not enable CPU profiling: cpu profiling already in use/,
    );
    expect(profiler.refused).toBe(2);
    // The other agent is done: the next scheduled fetch captures.
    profiler.otherProfiler = false;
    expect((await source.fetchProfiles('billing', WINDOW, NO_ABORT)).map((p) => foldProfile(p.bytes).total)).toEqual([
      FIXTURE.goDevirt.cpuTotal,
    ]);
    expect(busy.requests).toHaveLength(3);
  });

  it('answers a second capture that overlaps one running in the same process with 500, as Go does', async () => {
    const server = await goProgram(fixtureBytes(FIXTURE.goDevirt), 50);
    const url = `${server.url}/debug/pprof/profile?seconds=1`;
    const [first, second] = await Promise.all([
      fetch(url),
      new Promise((r) => setTimeout(r, 10)).then(() => fetch(url)),
    ]);
    expect(first.status).toBe(200);
    expect([
      second.status,
      second.headers.get('content-type'),
      second.headers.get('x-go-pprof'),
      await second.text(),
    ]).toEqual([
      500,
      'text/plain; charset=utf-8',
      '1',
      'Could not enable CPU profiling: cpu profiling already in use\n',
    ]);
  });

  it('lists the configured services and has nothing for an unknown one', async () => {
    const settings = sourceSettings({
      kind: 'pprof-http',
      name: 'go-fleet',
      services: {
        search: ['http://10.0.0.2:6060/debug/pprof/profile'],
        checkout: ['http://10.0.0.1:6060/debug/pprof/profile'],
      },
    });
    const source = createSource(settings, { logger: new RecordingLogger() });

    expect(await source.listServices(WINDOW, NO_ABORT)).toEqual(['checkout', 'search']);
    expect(await source.fetchProfiles('ledger', WINDOW, NO_ABORT)).toEqual([]);
  });

  it('adds seconds=N only where the target does not set a valid duration', () => {
    expect(withSeconds('http://h:6060/debug/pprof/profile', 10)).toBe('http://h:6060/debug/pprof/profile?seconds=10');
    expect(withSeconds('http://h:6060/debug/pprof/profile?seconds=3', 10)).toBe(
      'http://h:6060/debug/pprof/profile?seconds=3',
    );
    expect(withSeconds('http://h:6060/debug/pprof/profile?seconds=0', 10)).toBe(
      'http://h:6060/debug/pprof/profile?seconds=10',
    );
  });
});
