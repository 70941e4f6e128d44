import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { classifyPprof, foldPush, planIngest, type IngestQuery, type PushFoldOptions } from '../../src/domain/ingest';
import { foldPprofChoosing, ProfileDecodeError, type PprofMeasure } from '../../src/domain/profile';

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

const NOW = Date.parse('2026-11-22T03:30:00Z');
const OPTIONS: PushFoldOptions = { labelKeys: [], maxLabelValues: 100, countWallAsCpu: false };
/** What a pprof profile says it measures, as foldPush's classification sees it. */
function measureOf(raw: Uint8Array): PprofMeasure {
  let measure: PprofMeasure | undefined;
  foldPprofChoosing(raw, {}, (m) => {
    measure = m;
    return null;
  });
  return measure!;
}
const plan = (query: IngestQuery, contentType?: string) =>
  planIngest({ from: '1795318200', until: '1795318210', ...query }, contentType, NOW, 3600);

describe('classifyPprof on real profiles', () => {
  it.each([
    ['grafana-pyroscope/cpu.pprof', 'cpu', 'cpu/nanoseconds', 1n],
    ['golang-go/default.pgo', 'cpu', 'cpu/nanoseconds', 1n],
    ['grafana-pyroscope/nodejs-wall.pb.gz', 'wall', 'wall/microseconds', 1000n], // older Node agent
    [
      'grafana-pyroscope/dump2.jfr.gz.wall_wall_nanoseconds_wall_nanoseconds.10784330302778997279.pb.gz',
      'wall',
      'wall/nanoseconds',
      1n,
    ],
    ['parca/fgprof.pb.gz', 'wall', 'time/nanoseconds', 1n], // period type wallclock
  ])('%s is %s', (path, kind, sampleType, scale) => {
    const cls = classifyPprof(measureOf(gunzipSync(fixture(path))));
    expect(cls).toEqual({
      kind,
      sampleType: { type: sampleType.split('/')[0], unit: sampleType.split('/')[1] },
      scale,
    });
  });

  it.each(['grafana-pyroscope/nodejs-heap.pb.gz', 'grafana-pyroscope/heap.pb.gz'])('%s is not CPU', (path) => {
    expect(classifyPprof(measureOf(gunzipSync(fixture(path)))).kind).toBe('other');
  });

  it('counts times period when only sample counts are there', () => {
    const header = {
      sampleTypes: [{ type: 'samples', unit: 'count' }],
      periodType: { type: 'cpu', unit: 'nanoseconds' },
      period: 10_000_000n,
      defaultSampleType: null,
    };
    expect(classifyPprof(header)).toEqual({
      kind: 'cpu',
      sampleType: { type: 'samples', unit: 'count' },
      scale: 10_000_000n,
    });
    expect(classifyPprof({ ...header, period: 0n }).kind).toBe('other');
  });
});

describe('foldPush', () => {
  it('stores a gzipped Go CPU profile with the CPU time go tool pprof reports', () => {
    const out = foldPush(
      plan({ name: 'checkout.cpu{env=prod}', format: 'pprof' }),
      fixture('grafana-pyroscope/cpu.pprof'),
      OPTIONS,
    );
    expect(out).toMatchObject({
      action: 'store',
      service: 'checkout',
      profileType: 'cpu:nanoseconds',
      wallOnly: false,
    });
    expect(out.action === 'store' && out.cpuNanoseconds).toBe(refTotal('grafana-pyroscope/cpu.pprof.cpu.top.json'));
  });

  it('reads plain pprof the same, with another digest', () => {
    const gz = fixture('grafana-pyroscope/cpu.pprof');
    const a = foldPush(plan({ name: 'checkout', format: 'pprof' }), gz, OPTIONS);
    const b = foldPush(plan({ name: 'checkout', format: 'pprof' }), gunzipSync(gz), OPTIONS);
    expect(a.action === 'store' && b.action === 'store').toBe(true);
    if (a.action !== 'store' || b.action !== 'store') return;
    expect(b.cpuNanoseconds).toBe(a.cpuNanoseconds);
    expect(b.digest).not.toBe(a.digest);
  });

  it('digest covers name labels and range, not label order', () => {
    const body = fixture('grafana-pyroscope/cpu.pprof');
    const digest = (q: IngestQuery) => {
      const out = foldPush(plan({ format: 'pprof', ...q }), body, OPTIONS);
      return out.action === 'store' ? out.digest : '';
    };
    expect(digest({ name: 'a{x=1,y=2}' })).toBe(digest({ name: 'a{y=2,x=1}' }));
    expect(digest({ name: 'a{x=1,y=2}' })).not.toBe(digest({ name: 'a{x=1,y=3}' }));
    expect(digest({ name: 'a{x=1}' })).not.toBe(digest({ name: 'a{x=1}', from: '1795318201' }));
  });

  it('skips heap profiles and, by default, wall-only ones', () => {
    expect(
      foldPush(plan({ name: 'shop', format: 'pprof' }), fixture('grafana-pyroscope/nodejs-heap.pb.gz'), OPTIONS),
    ).toEqual({
      action: 'skip',
      reason: 'not-cpu',
      detail: 'inuse_objects/count, inuse_space/bytes',
    });
    expect(
      foldPush(plan({ name: 'shop', format: 'pprof' }), fixture('grafana-pyroscope/nodejs-wall.pb.gz'), OPTIONS),
    ).toMatchObject({
      action: 'skip',
      reason: 'wall-not-counted',
    });
  });

  it('counts wall time, flagged, when countWallAsCpu is set', () => {
    const out = foldPush(plan({ name: 'shop', format: 'pprof' }), fixture('grafana-pyroscope/nodejs-wall.pb.gz'), {
      ...OPTIONS,
      countWallAsCpu: true,
    });
    expect(out).toMatchObject({ action: 'store', profileType: 'wall:nanoseconds', wallOnly: true });
    // go tool pprof: 8980000 microseconds of wall time.
    expect(out.action === 'store' && out.cpuNanoseconds).toBe(
      refTotal('grafana-pyroscope/nodejs-wall.pb.gz.wall.top.json') * 1000n,
    );
    if (out.action === 'store') {
      const flat = [...out.fold.functions.values()].reduce((sum, f) => sum + f.flat, 0n);
      expect(flat).toBe(out.cpuNanoseconds); // every value was scaled, not only the total
    }
  });

  it('converts folded samples to CPU time with sampleRate, as Pyroscope (1e9 / rate per sample)', () => {
    const text = fixture('flamegraph/perf-java-stacks-01-collapsed-all.txt');
    const samples = text
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .reduce((sum, l) => sum + BigInt(l.slice(l.lastIndexOf(' ') + 1)), 0n);
    const at100 = foldPush(plan({ name: 'java.cpu' }), text, OPTIONS);
    expect(at100).toMatchObject({ action: 'store', service: 'java', profileType: 'cpu:nanoseconds' });
    expect(at100.action === 'store' && at100.cpuNanoseconds).toBe(samples * 10_000_000n);
    const at17 = foldPush(plan({ name: 'java', sampleRate: '17' }), text, OPTIONS);
    expect(at17.action === 'store' && at17.cpuNanoseconds).toBe(samples * 58_823_529n);
  });

  it('reads lines format (one stack per line)', () => {
    const body = Buffer.from('main;work\nmain;work\nmain;idle\n\nmain;work\n');
    const out = foldPush(plan({ name: 'app.cpu', format: 'lines' }), body, OPTIONS);
    expect(out.action === 'store' && out.cpuNanoseconds).toBe(4n * 10_000_000n);
    expect(out.action === 'store' && out.fold.functions.get('work')).toEqual({ flat: 30_000_000n, cum: 30_000_000n });
  });

  it('reads speedscope: time units as nanoseconds, unit none as samples at sampleRate', () => {
    const doc = (unit: string) =>
      Buffer.from(
        JSON.stringify({
          $schema: 'https://www.speedscope.app/file-format-schema.json',
          shared: { frames: [{ name: 'main' }, { name: 'work' }] },
          profiles: [
            {
              type: 'sampled',
              name: 'p',
              unit,
              startValue: 0,
              endValue: 3,
              samples: [[0, 1], [0, 1], [0]],
              weights: [2, 1, 4],
            },
          ],
        }),
      );
    const ms = foldPush(plan({ name: 'app.cpu', format: 'speedscope' }), doc('milliseconds'), OPTIONS);
    expect(ms).toMatchObject({ action: 'store', profileType: 'cpu:nanoseconds', cpuNanoseconds: 7_000_000n });
    const none = foldPush(plan({ name: 'app.cpu', format: 'speedscope', sampleRate: '100' }), doc('none'), OPTIONS);
    expect(none).toMatchObject({ action: 'store', profileType: 'cpu:nanoseconds', cpuNanoseconds: 70_000_000n });
    expect(foldPush(plan({ name: 'app.cpu', format: 'speedscope' }), doc('bytes'), OPTIONS)).toMatchObject({
      action: 'skip',
      reason: 'not-cpu',
    });
  });

  it('skips folded pushes that are not CPU', () => {
    const body = Buffer.from('a;b 1\n');
    expect(foldPush(plan({ name: 'app.inuse_space' }), body, OPTIONS)).toMatchObject({
      action: 'skip',
      reason: 'not-cpu',
    });
    expect(foldPush(plan({ name: 'app.cpu', units: 'bytes' }), body, OPTIONS)).toMatchObject({
      action: 'skip',
      reason: 'not-cpu',
    });
    expect(foldPush(plan({ name: 'app.wall' }), body, OPTIONS)).toMatchObject({
      action: 'skip',
      reason: 'wall-not-counted',
    });
  });

  it('skips an empty body as Pyroscope does', () => {
    expect(foldPush(plan({ name: 'app', format: 'pprof' }), Buffer.alloc(0), OPTIONS)).toMatchObject({
      action: 'skip',
      reason: 'empty',
    });
  });

  it('rejects corrupt input with the decoder error', () => {
    const gz = fixture('grafana-pyroscope/cpu.pprof');
    expect(() => foldPush(plan({ name: 'app', format: 'pprof' }), gz.subarray(0, gz.length - 20), OPTIONS)).toThrow(
      ProfileDecodeError,
    );
    expect(() => foldPush(plan({ name: 'app', format: 'pprof' }), gz.subarray(0, gz.length - 20), OPTIONS)).toThrow(
      /^gzip: corrupt gzip stream/,
    );
    const plain = gunzipSync(gz);
    expect(() => foldPush(plan({ name: 'app', format: 'pprof' }), plain.subarray(0, 700), OPTIONS)).toThrow(
      /^pprof: expected .* \(at byte \d+\)$/,
    );
    expect(() => foldPush(plan({ name: 'app' }), Buffer.from('a;b c\n'), OPTIONS)).toThrow(/^folded: .*\(at line 1\)$/);
  });
});
