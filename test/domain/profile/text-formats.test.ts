import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { foldProfile, ProfileDecodeError, type Fold } from '../../../src/domain/profile';
import { describeShared, PROFILES, SHARED_PROFILES, sources } from './corpus';

/** Whole-corpus listings read ../shared; the tests that name a file read the committed subset. */
const rows = sources(SHARED_PROFILES);
const readShared = (file: string) => readFileSync(join(SHARED_PROFILES, file));
const read = (file: string) => readFileSync(join(PROFILES, file));

/** Every leaf gets flat, so flat sums to the total when no sample has an empty stack. */
function flatSum(fold: Fold): bigint {
  let sum = 0n;
  for (const v of fold.functions.values()) sum += v.flat;
  return sum;
}

describeShared('folded files of ../shared fold to their own sample sums', () => {
  const folded = rows.filter((r) => r.format === 'folded');
  it('finds them', () => expect(folded.length).toBeGreaterThanOrEqual(6));
  for (const { file } of folded) {
    it(file, () => {
      const text = readShared(file).toString('utf8');
      const expected = text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .reduce((sum, l) => sum + BigInt(l.trim().split(' ').pop()!), 0n);
      const fold = foldProfile(readShared(file));
      expect(fold.format).toBe('folded');
      expect(fold.total).toBe(expected);
      expect(flatSum(fold)).toBe(expected);
    });
  }
  it('counts recursion once in cum (speedscope/recursion.txt)', () => {
    const fold = foldProfile(read('speedscope/recursion.txt'));
    // Worked by hand from the 10 lines of the file.
    expect(Object.fromEntries(fold.functions)).toEqual({
      a: { flat: 1n, cum: 9n },
      b: { flat: 5n, cum: 9n },
      c: { flat: 4n, cum: 4n },
    });
  });
});

describeShared('V8 .cpuprofile files of ../shared fold to their own sample sums', () => {
  const cpuprofiles = rows.filter((r) => r.format === 'v8-cpuprofile');
  it('finds them', () => expect(cpuprofiles.length).toBe(3));
  for (const { file } of cpuprofiles) {
    it(file, () => {
      const json = JSON.parse(readShared(file).toString('utf8')) as {
        samples: number[];
        timeDeltas?: number[];
        timestamps?: number[];
        startTime: number;
        endTime: number;
      };
      const samples = foldProfile(readShared(file), { sampleType: 'samples' });
      expect(samples.total).toBe(BigInt(json.samples.length));
      const wall = foldProfile(readShared(file));
      expect(`${wall.sampleType.type}/${wall.sampleType.unit}`).toBe('wall/microseconds');
      // Sample i lasts until the next one; the last until the end: the sum runs from the first sample to the end.
      const expected = json.timeDeltas
        ? json.endTime - (json.startTime + json.timeDeltas[0]!)
        : json.timestamps![json.samples.length]! - json.timestamps![0]!;
      expect(wall.total).toBe(BigInt(expected));
      expect(flatSum(wall)).toBe(wall.total);
      expect(wall.functions.has('(root)')).toBe(false);
    });
  }
});

describeShared('speedscope files of ../shared fold to their own sample sums', () => {
  const speedscope = rows.filter((r) => r.format === 'speedscope');
  it('finds them', () => expect(speedscope.length).toBe(6));
  const factor: Record<string, number> = {
    none: 1,
    bytes: 1,
    nanoseconds: 1,
    microseconds: 1e3,
    milliseconds: 1e6,
    seconds: 1e9,
  };
  for (const { file } of speedscope) {
    it(file, () => {
      type P = { type: string; unit: string; weights?: number[]; events?: { type: string; at: number }[] };
      const json = JSON.parse(readShared(file).toString('utf8')) as { profiles: P[] };
      const first = json.profiles[0]!;
      const same = json.profiles.filter(
        (p) => factor[p.unit] === factor[first.unit] && (p.unit === 'bytes') === (first.unit === 'bytes'),
      );
      let expected = 0;
      for (const p of same) {
        if (p.type === 'sampled') expected += p.weights!.reduce((a, b) => a + b, 0) * factor[p.unit]!;
        else {
          let depth = 0;
          p.events!.forEach((e, i) => {
            if (depth > 0) expected += (e.at - p.events![i - 1]!.at) * factor[p.unit]!;
            depth += e.type === 'O' ? 1 : -1;
          });
        }
      }
      const fold = foldProfile(readShared(file));
      expect(fold.format).toBe('speedscope');
      expect(fold.total).toBe(BigInt(expected));
      expect(flatSum(fold)).toBe(fold.total);
    });
  }
});

describeShared('files of ../shared in formats flamebill does not read get a clear error', () => {
  const others = rows.filter((r) =>
    ['dtrace-stacks', 'perf-script', 'perf-script(gz)', 'pyroscope-jfr-labels (not pprof)'].includes(r.format),
  );
  it('finds them', () => expect(others.length).toBeGreaterThanOrEqual(5));
  for (const { file, format } of others) {
    it(`${file} (${format})`, () => {
      expect(() => foldProfile(readShared(file))).toThrow(ProfileDecodeError);
    });
  }
});

describeShared('JFR recordings of ../shared (oracle comparisons: test/domain/profile/jfr/jfr-oracle.test.ts)', () => {
  const recordings = rows.filter((r) => r.format === 'jfr' || r.format === 'jfr(gz)');
  it('finds them', () => expect(recordings.length).toBeGreaterThanOrEqual(15));
  for (const { file } of recordings) {
    it(`${file} folds to CPU time with flat summing to the total`, () => {
      const fold = foldProfile(readShared(file));
      expect(fold.format).toBe('jfr');
      expect(flatSum(fold)).toBe(fold.total);
    });
  }
});

describe('JFR in the committed corpus', () => {
  it("reads a JDK recording (speedscope's heavy.jfr: JFR 2.1, sizes padded to 8-byte varints)", () => {
    const fold = foldProfile(read('speedscope/heavy.jfr'));
    expect(fold.format).toBe('jfr');
    expect(fold.sampleTypes.map((t) => t.type)).toEqual([
      'cpu',
      'alloc_sample_objects',
      'alloc_sample_bytes',
      'native_samples',
    ]);
    // `jfr summary heavy.jfr`: 44 jdk.NativeMethodSample events, not CPU time.
    expect(foldProfile(read('speedscope/heavy.jfr'), { sampleType: 'native_samples' }).total).toBe(44n);
    expect(fold.sampleCount).toBe(346);
    expect(fold.total).toBe(3_460_000_000n);
    expect(fold.functions.get('java/util/DualPivotQuicksort.sort')).toEqual({
      flat: 2_110_000_000n,
      cum: 2_980_000_000n,
    });
  });
});

describe('pprof files of ../shared without refs (go tool pprof rejects them or they have no ref)', () => {
  it('rejects the .NET profiles with a function of ID 0, as pprof does, unless asked to repair them as Pyroscope does', () => {
    for (const [file, ref] of [
      ['grafana-pyroscope/dotnet-pprof-3.pb.gz', 'dotnet-pprof-3.cpu.top.json'],
      ['grafana-pyroscope/dotnet-pprof-73.pb.gz', 'dotnet-pprof-73.cpu.top.json'],
    ] as const) {
      expect(() => foldProfile(read(file))).toThrow(/function with reserved ID=0/);
      // Oracle: go tool pprof on a copy repaired at the wire level by test/fixtures/dotnet/repair-dotnet.py.
      const oracle = JSON.parse(readFileSync(join(__dirname, '../../fixtures/dotnet', ref), 'utf8')) as {
        total: string;
        functions: Array<{ name: string; flat: string; cum: string }>;
      };
      const fold = foldProfile(read(file), { fixDotnetFunctionIds: true, sampleType: 'cpu' });
      expect(fold.total).toBe(BigInt(oracle.total));
      expect(
        new Map([...fold.functions].map(([name, v]) => [name, { flat: String(v.flat), cum: String(v.cum) }])),
      ).toEqual(new Map(oracle.functions.map((f) => [f.name, { flat: f.flat, cum: f.cum }])));
    }
  });

  it('rejects the Pyroscope JFR label dumps, which are not pprof', () => {
    for (const file of ['grafana-pyroscope/dump1.labels.pb.gz', 'grafana-pyroscope/dump2.labels.pb.gz']) {
      expect(() => foldProfile(read(file))).toThrow(ProfileDecodeError);
    }
  });

  it('reads invalid_utf8.pb.gz with U+FFFD in names and the values pprof prints (documented choice)', () => {
    const fold = foldProfile(read('grafana-pyroscope/invalid_utf8.pb.gz'));
    expect(fold.total).toBe(1n);
    expect(fold.functions.get('my')).toEqual({ flat: 1n, cum: 1n });
    const other = [...fold.functions.keys()].find((n) => n !== 'my')!;
    expect(other).toContain('\uFFFD');
  });

  it('folds the readable pprof files that have no ref, with flat summing to the total', () => {
    const withRefs = new Set(sources().map((r) => r.file));
    const noRef = [
      'parca/1644509275338070000.pb.gz',
      'parca/fib.pb.gz',
      'parca/inlining-disabled-cpu.stripped.pprof',
      'parca/no-python.pb.gz',
      'parca/profile.pb.gz',
      'speedscope/simple.prof',
    ];
    for (const file of noRef) {
      expect(withRefs.has(file)).toBe(true);
      const fold = foldProfile(read(file));
      expect(flatSum(fold)).toBeLessThanOrEqual(fold.absoluteTotal!);
      expect(fold.functions.size).toBeGreaterThan(0);
    }
    // go tool pprof -top on speedscope/simple.prof: 1500ms total, main.alpha 480ms flat.
    const simple = foldProfile(read('speedscope/simple.prof'));
    expect(simple.total).toBe(1_500_000_000n);
    expect(simple.functions.get('main.alpha')!.flat).toBe(480_000_000n);
  });

  it('inflates gzip around text formats too', () => {
    expect(gunzipSync(read('flamegraph/example-perf-stacks.txt.gz')).length).toBeGreaterThan(0);
  });
});
