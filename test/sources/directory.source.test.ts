import { appendFileSync, mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { foldProfile } from '../../src/domain/profile';
import { createSource } from '../../src/sources/source-factory';
import { FIXTURE, fixtureBytes, NO_ABORT, RecordingLogger, sourceSettings, windowOf } from './source-test-kit';

const NOW = new Date('2026-11-20T12:00:00Z');
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'flamebill-drop-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Writes a drop file whose last modification was `ageSeconds` before NOW. */
function drop(relativePath: string, bytes: Uint8Array, ageSeconds = 3600): string {
  const path = join(root, relativePath);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
  const mtime = new Date(NOW.getTime() - ageSeconds * 1000);
  utimesSync(path, mtime, mtime);
  return path;
}

function directory(overrides: Record<string, unknown> = {}, logger = new RecordingLogger()) {
  const settings = sourceSettings({ kind: 'directory', name: 'bucket', path: root, minAgeSeconds: 30, ...overrides });
  return createSource(settings, { logger, now: () => NOW });
}

describe('DirectorySource', () => {
  it('reads <service>/<window start>.pb.gz files of the window, in every accepted start notation', async () => {
    drop('checkout/2026-11-20T10:00:00Z.pb.gz', fixtureBytes(FIXTURE.goDevirt));
    drop('search/20261120T100000Z.pb.gz', fixtureBytes(FIXTURE.goInlineHot));
    drop('ledger/2026-11-20T10-00-00Z.pprof', fixtureBytes(FIXTURE.parcaProfile1));
    drop('payments/1795168800.pb', fixtureBytes(FIXTURE.kafkaCpu0)); // epoch seconds of 2026-11-20T10:00:00Z
    drop('checkout/2026-11-20T11:00:00Z.pb.gz', fixtureBytes(FIXTURE.kafkaCpu1)); // next window
    const source = directory();
    const window = windowOf('2026-11-20T10:00:00Z', 1);

    expect(await source.listServices(window, NO_ABORT)).toEqual(['checkout', 'ledger', 'payments', 'search']);
    const checkout = await source.fetchProfiles('checkout', window, NO_ABORT);
    expect(checkout).toHaveLength(1);
    expect(checkout[0]).toMatchObject({
      profileType: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
      seriesLabels: { service_name: 'checkout' },
      range: window,
      origin: join(root, 'checkout/2026-11-20T10:00:00Z.pb.gz'),
    });
    expect(foldProfile(checkout[0]!.bytes).total).toBe(FIXTURE.goDevirt.cpuTotal);
    const totals = await Promise.all(
      ['search', 'ledger', 'payments'].map(
        async (service) => foldProfile((await source.fetchProfiles(service, window, NO_ABORT))[0]!.bytes).total,
      ),
    );
    expect(totals).toEqual([FIXTURE.goInlineHot.cpuTotal, FIXTURE.parcaProfile1.cpuTotal, FIXTURE.kafkaCpu0.cpuTotal]);
  });

  it('ignores temporary, hidden, empty and still-changing files', async () => {
    drop('checkout/2026-11-20T10:00:00Z.pb.gz', fixtureBytes(FIXTURE.goDevirt));
    drop('checkout/2026-11-20T10:15:00Z.pb.gz.tmp', fixtureBytes(FIXTURE.goInlineHot));
    drop('checkout/.2026-11-20T10:20:00Z.pb.gz.Xy12ab', fixtureBytes(FIXTURE.goInlineHot)); // rsync's temporary name
    drop('checkout/2026-11-20T10:25:00Z.pb.gz.part', fixtureBytes(FIXTURE.goInlineHot));
    drop('checkout/2026-11-20T10:30:00Z.pb.gz', new Uint8Array(0));
    drop('checkout/2026-11-20T10:40:00Z.pb.gz', fixtureBytes(FIXTURE.goInlineHot), 5); // written 5 s ago: maybe unfinished
    drop('search/2026-11-20T10:50:00Z.pb.gz', fixtureBytes(FIXTURE.parcaProfile1), 5);
    drop('checkout/notes.txt', new Uint8Array([1, 2, 3]));
    const logger = new RecordingLogger();
    const source = directory({}, logger);
    const window = windowOf('2026-11-20T10:00:00Z', 1);

    expect(await source.listServices(window, NO_ABORT)).toEqual(['checkout']);
    const profiles = await source.fetchProfiles('checkout', window, NO_ABORT);
    expect(profiles.map((profile) => profile.origin)).toEqual([join(root, 'checkout/2026-11-20T10:00:00Z.pb.gz')]);
    const skipped = logger.lines
      .filter((line) => line.message.startsWith('skipping drop file'))
      .map((line) => `${line.fields.file}: ${line.message}`);
    expect(skipped).toContain('checkout/2026-11-20T10:30:00Z.pb.gz: skipping drop file: empty');
    expect(skipped).toContain(
      'checkout/2026-11-20T10:40:00Z.pb.gz: skipping drop file: modified 5 s ago, still being written?',
    );
  });

  it('reads a young file once it has rested minAgeSeconds', async () => {
    drop('checkout/2026-11-20T10:00:00Z.pb.gz', fixtureBytes(FIXTURE.goDevirt), 29);
    const window = windowOf('2026-11-20T10:00:00Z', 1);

    expect(await directory().fetchProfiles('checkout', window, NO_ABORT)).toEqual([]);
    expect(await directory({ minAgeSeconds: 20 }).fetchProfiles('checkout', window, NO_ABORT)).toHaveLength(1);
  });

  it('skips a file that a writer appends to between the first look and the read', async () => {
    const path = drop('checkout/2026-11-20T10:00:00Z.pb.gz', fixtureBytes(FIXTURE.goDevirt));
    const logger = new RecordingLogger();
    let writerResumes = true;
    // The clock is read right after the first stat: resume the writer there.
    const now = (): Date => {
      if (writerResumes) appendFileSync(path, new Uint8Array(100));
      writerResumes = false;
      return NOW;
    };
    const source = createSource(sourceSettings({ kind: 'directory', name: 'bucket', path: root }), { logger, now });

    expect(await source.fetchProfiles('checkout', windowOf('2026-11-20T10:00:00Z', 1), NO_ABORT)).toEqual([]);
    expect(logger.lines.map((line) => line.message)).toContain(
      'drop file changed while being read, skipping it this time',
    );
  });

  it('takes a custom pattern whose extra groups become labels', async () => {
    drop('eu-west-1/checkout-1795168800000.pb.gz', fixtureBytes(FIXTURE.goDevirt)); // epoch ms
    drop('us-east-1/checkout-1795170600000000.pb.gz', fixtureBytes(FIXTURE.goInlineHot)); // epoch µs, 10:30
    const source = directory({
      pattern: '^(?<region>[^/]+)/(?<service>[a-z]+)-(?<start>\\d+)\\.pb\\.gz$',
      windowMinutes: 30,
    });
    const window = windowOf('2026-11-20T10:00:00Z', 1);

    const profiles = await source.fetchProfiles('checkout', window, NO_ABORT);

    expect(
      profiles.map((profile) => [
        profile.seriesLabels,
        profile.range.start.toISOString(),
        profile.range.end.toISOString(),
      ]),
    ).toEqual([
      [{ region: 'eu-west-1', service_name: 'checkout' }, '2026-11-20T10:00:00.000Z', '2026-11-20T10:30:00.000Z'],
      [{ region: 'us-east-1', service_name: 'checkout' }, '2026-11-20T10:30:00.000Z', '2026-11-20T11:00:00.000Z'],
    ]);
  });

  it('names the folder when it cannot be read', async () => {
    const source = directory({ path: join(root, 'missing') });

    await expect(source.listServices(windowOf('2026-11-20T10:00:00Z', 1), NO_ABORT)).rejects.toThrow(
      `bucket: cannot read the drop folder ${join(root, 'missing')}`,
    );
  });
});
