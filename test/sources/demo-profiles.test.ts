import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldProfile, type Fold } from '../../src/domain/profile';
import type { DirectorySource } from '../../src/sources/directory.source';
import { createSource } from '../../src/sources/source-factory';
import { NO_ABORT, RecordingLogger, sourceSettings } from './source-test-kit';

const DEMO = join(__dirname, '..', '..', 'demo', 'profiles');
const SERVICES = ['checkout', 'ledger', 'payments-api', 'recommendations', 'search', 'storefront-web'];

/** The committed demo profiles through the directory source, as the first start reads them. */
function demoSource(): DirectorySource {
  // minAgeSeconds 0: a fresh checkout gives every file a modification time of "just now".
  const settings = sourceSettings({ kind: 'directory', name: 'demo', path: DEMO, minAgeSeconds: 0 });
  return createSource(settings, { logger: new RecordingLogger() }) as DirectorySource;
}

async function fold(service: string, startIso: string): Promise<Fold> {
  const start = new Date(startIso);
  const [profile, ...more] = await demoSource().fetchProfiles(
    service,
    { start, end: new Date(start.getTime() + 3_600_000) },
    NO_ABORT,
  );
  expect(more).toEqual([]);
  return foldProfile(profile!.bytes, { labelKeys: ['endpoint', 'tenant', 'version'] });
}

/** A function's share of the profile's CPU time (cum), in percent. */
function flatShare(profile: Fold, name: string): number {
  return (Number(profile.functions.get(name)?.flat ?? 0n) / Number(profile.total)) * 100;
}

function cumShare(profile: Fold, name: string): number {
  return (Number(profile.functions.get(name)?.cum ?? 0n) / Number(profile.total)) * 100;
}

describe('demo profiles', () => {
  it('cover six hourly windows of six services and stay small', async () => {
    const source = demoSource();
    const windows = await source.coveredWindows(NO_ABORT);

    expect(windows.map((window) => window.start.toISOString())).toEqual(
      ['06', '07', '08', '09', '10', '11'].map((hour) => `2026-11-21T${hour}:00:00.000Z`),
    );
    for (const window of windows) expect(await source.listServices(window, NO_ABORT)).toEqual(SERVICES);
    const bytes = SERVICES.flatMap((service) =>
      readdirSync(join(DEMO, service)).map((file) => statSync(join(DEMO, service, file)).size),
    );
    expect(bytes).toHaveLength(36);
    expect(bytes.reduce((sum, size) => sum + size, 0)).toBeLessThan(2 * 1024 * 1024);
  });

  it('are CPU profiles from the Node time profiler, labelled by endpoint, tenant and version', async () => {
    const profile = await fold('checkout', '2026-11-21T06:00:00Z');

    expect(profile.sampleTypes.map((type) => `${type.type}/${type.unit}`)).toEqual([
      'sample/count',
      'wall/nanoseconds',
      'cpu/nanoseconds',
    ]);
    expect(profile.sampleType).toEqual({ type: 'cpu', unit: 'nanoseconds' });
    expect(profile.timeNanos).toBe(BigInt(Date.parse('2026-11-21T06:00:00Z')) * 1_000_000n);
    expect(profile.total).toBeGreaterThan(500_000_000n); // over half a CPU second in the window
    const endpoints = new Set(profile.slices!.map((slice) => slice.labels.endpoint));
    expect(endpoints).toEqual(new Set(['POST /cart/checkout', 'GET /cart', undefined]));
    expect(new Set(profile.slices!.map((slice) => slice.labels.version))).toContain('1.14.0');
    expect(new Set(profile.slices!.map((slice) => slice.labels.tenant))).toEqual(
      new Set(['acme-retail', 'globex', 'initech', undefined]),
    );
    expect(cumShare(profile, 'signOrder')).toBeGreaterThan(10);
  });

  it('carry the two planted regressions: checkout 1.15.0 signs slower, recommendations 3.2.0 re-ranks', async () => {
    const checkoutBefore = await fold('checkout', '2026-11-21T06:00:00Z');
    const checkoutAfter = await fold('checkout', '2026-11-21T11:00:00Z');
    // 1.15.0's checksum loop runs in signOrder's own frame: its self share goes from about 1 % to about a third.
    expect(flatShare(checkoutBefore, 'signOrder')).toBeLessThan(3);
    expect(flatShare(checkoutAfter, 'signOrder')).toBeGreaterThan(20);
    expect(cumShare(checkoutAfter, 'signOrder')).toBeGreaterThan(cumShare(checkoutBefore, 'signOrder') * 1.2);

    const recommendationsBefore = await fold('recommendations', '2026-11-21T06:00:00Z');
    const recommendationsAfter = await fold('recommendations', '2026-11-21T11:00:00Z');
    expect(cumShare(recommendationsBefore, 'diversify')).toBe(0);
    expect(cumShare(recommendationsAfter, 'diversify')).toBeGreaterThan(10);
  });
});
