import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  alignFolds,
  cpuNanoseconds,
  deserializeFold,
  FoldCodecError,
  foldProfile,
  mergeFolds,
  SampleTypeMismatchError,
  serializeFold,
  timeKind,
  type Fold,
  type FunctionValue,
} from '../../../src/domain/profile';
import { PROFILES } from './corpus';
import { encodeTestProfile } from './pprof-builder';

const CPU: [string, string][] = [
  ['samples', 'count'],
  ['cpu', 'nanoseconds'],
];

/** Sums slices per function: slices must add up to the fold. */
function sumSlices(fold: Fold): { total: bigint; functions: Map<string, FunctionValue> } {
  const functions = new Map<string, FunctionValue>();
  let total = 0n;
  for (const s of fold.slices ?? []) {
    total += s.total;
    for (const [name, v] of s.functions) {
      const prev = functions.get(name) ?? { flat: 0n, cum: 0n };
      functions.set(name, { flat: prev.flat + v.flat, cum: prev.cum + v.cum });
    }
  }
  return { total, functions };
}

describe('label slicing', () => {
  const bytes = encodeTestProfile({
    sampleTypes: CPU,
    samples: [
      { stack: ['handler', 'main'], values: [1, 10], labels: { endpoint: '/a', request_id: 'r1' } },
      { stack: ['handler', 'main'], values: [1, 20], labels: { endpoint: '/a', request_id: 'r2' } },
      { stack: ['db', 'handler', 'main'], values: [1, 30], labels: { endpoint: '/b', request_id: 'r3', tenant: 't1' } },
      { stack: ['gc'], values: [1, 40] },
    ],
  });

  it('splits by the configured keys, keeps unlabelled samples under {}, and slices sum to the totals', () => {
    const fold = foldProfile(bytes, { labelKeys: ['endpoint', 'tenant'] });
    expect(fold.slices!.map((s) => [s.labels, s.total])).toEqual([
      [{}, 40n],
      [{ endpoint: '/a' }, 30n],
      [{ endpoint: '/b', tenant: 't1' }, 30n],
    ]);
    expect(fold.droppedLabelKeys).toEqual([]);
    expect(sumSlices(fold)).toEqual({ total: fold.total, functions: new Map(fold.functions) });
  });

  it('keeps the costliest values of a key over the cardinality limit, folds the rest into __other__ and reports the key', () => {
    const fold = foldProfile(bytes, { labelKeys: ['endpoint', 'request_id'], maxLabelValues: 2 });
    expect(fold.droppedLabelKeys).toEqual(['request_id']);
    // r3 (30 ns) and r2 (20 ns) are the costliest; r1 (10 ns) folds into __other__.
    expect(fold.slices!.map((s) => [s.labels, s.total])).toEqual([
      [{}, 40n],
      [{ endpoint: '/a', request_id: '__other__' }, 10n],
      [{ endpoint: '/a', request_id: 'r2' }, 20n],
      [{ endpoint: '/b', request_id: 'r3' }, 30n],
    ]);
    expect(sumSlices(fold)).toEqual({ total: fold.total, functions: new Map(fold.functions) });
  });

  it('slices a real labelled profile (parca/labels.pb.gz) so that slices sum to the totals', () => {
    const fold = foldProfile(readFileSync(join(PROFILES, 'parca/labels.pb.gz')), { labelKeys: ['api'] });
    expect(fold.slices!.length).toBeGreaterThan(1);
    expect(sumSlices(fold)).toEqual({ total: fold.total, functions: new Map(fold.functions) });
  });

  it('gives formats without labels a single {} slice', () => {
    const fold = foldProfile(new TextEncoder().encode('a;b 3\na;c 4\n'), { labelKeys: ['endpoint'] });
    expect(fold.slices!.map((s) => [s.labels, s.total])).toEqual([[{}, 7n]]);
  });
});

describe('mergeFolds and alignFolds', () => {
  const one = foldProfile(
    encodeTestProfile({ sampleTypes: CPU, samples: [{ stack: ['f', 'main'], values: [1, 10] }] }),
  );
  const two = foldProfile(
    encodeTestProfile({
      sampleTypes: CPU,
      samples: [
        { stack: ['g', 'main'], values: [2, 20] },
        { stack: ['f'], values: [1, 5] },
      ],
    }),
  );

  it('adds totals, flat and cum per function without touching the inputs', () => {
    const before = serializeFold(one);
    const merged = mergeFolds([one, two]);
    expect(merged.total).toBe(35n);
    expect(merged.sampleCount).toBe(3);
    expect(Object.fromEntries(merged.functions)).toEqual({
      f: { flat: 15n, cum: 15n },
      main: { flat: 0n, cum: 30n },
      g: { flat: 20n, cum: 20n },
    });
    expect(serializeFold(one)).toEqual(before);
  });

  it('refuses to merge or align different sample types', () => {
    const samples = foldProfile(encodeTestProfile({ sampleTypes: CPU, samples: [{ stack: ['f'], values: [1, 10] }] }), {
      sampleType: 'samples',
    });
    expect(() => mergeFolds([one, samples])).toThrow(SampleTypeMismatchError);
    expect(() => alignFolds(one, samples)).toThrow(/cpu\/nanoseconds and samples\/count/);
  });

  it('aligns two folds by function with zeros where one is absent', () => {
    const aligned = alignFolds(one, two);
    expect(aligned.baseTotal).toBe(10n);
    expect(aligned.currentTotal).toBe(25n);
    expect(aligned.functions).toEqual([
      { name: 'f', base: { flat: 10n, cum: 10n }, current: { flat: 5n, cum: 5n } },
      { name: 'g', base: { flat: 0n, cum: 0n }, current: { flat: 20n, cum: 20n } },
      { name: 'main', base: { flat: 0n, cum: 10n }, current: { flat: 0n, cum: 20n } },
    ]);
  });
});

describe('cpuNanoseconds and timeKind', () => {
  it('reads cpu/nanoseconds directly and samples x period for a cpu period type', () => {
    const bytes = encodeTestProfile({
      sampleTypes: CPU,
      samples: [{ stack: ['f'], values: [3, 30_000_000] }],
      periodType: ['cpu', 'nanoseconds'],
      period: 10_000_000,
    });
    expect(cpuNanoseconds(foldProfile(bytes))).toBe(30_000_000n);
    expect(cpuNanoseconds(foldProfile(bytes, { sampleType: 'samples' }))).toBe(30_000_000n);
    expect(timeKind(foldProfile(bytes))).toBe('cpu');
  });

  it('says wall-only profiles are not CPU time (the Node agent wall profile in ../shared)', () => {
    const fold = foldProfile(readFileSync(join(PROFILES, 'grafana-pyroscope/nodejs-wall.pb.gz')));
    expect(`${fold.sampleType.type}/${fold.sampleType.unit}`).toBe('wall/microseconds');
    expect(cpuNanoseconds(fold)).toBeNull();
    expect(timeKind(fold)).toBe('wall');
    const heap = foldProfile(readFileSync(join(PROFILES, 'grafana-pyroscope/nodejs-heap.pb.gz')));
    expect(cpuNanoseconds(heap)).toBeNull();
    expect(timeKind(heap)).toBe('other');
  });

  it('counts a Go CPU profile exactly (google-pprof/sample.cpu: 1.76 s)', () => {
    expect(cpuNanoseconds(foldProfile(readFileSync(join(PROFILES, 'google-pprof/sample.cpu'))))).toBe(1_760_000_000n);
  });
});

describe('serializeFold / deserializeFold', () => {
  it('round-trips real folds exactly, slices and big values included', () => {
    const folds = [
      foldProfile(readFileSync(join(PROFILES, 'parca/labels.pb.gz')), { labelKeys: ['api'] }),
      foldProfile(readFileSync(join(PROFILES, 'grafana-pyroscope/heap_go_truncated_2.pb.gz')), {
        sampleType: 'alloc_space',
      }),
      foldProfile(
        encodeTestProfile({
          sampleTypes: CPU,
          samples: [
            { stack: ['f'], values: [1, 2n ** 70n] },
            { stack: ['g'], values: [1, -5n] },
          ],
        }),
      ),
    ];
    for (const fold of folds) expect(deserializeFold(serializeFold(fold))).toEqual(fold);
  });

  it('writes the bytes stored folds were written with (format version 1 is frozen)', () => {
    // Produced by the version 1 encoder as it was first written (BigInt per integer, TextEncoder per string): rows
    // already in \`profiles.fold\` hold these bytes, so the faster encoder must write exactly them. A 200-byte name
    // (two-byte length), multi-byte UTF-8, values past 2^53 and negative ones.
    const fold: Fold = {
      format: 'pprof',
      sampleType: { type: 'cpu', unit: 'nanoseconds' },
      sampleTypes: [
        { type: 'samples', unit: 'count' },
        { type: 'cpu', unit: 'nanoseconds' },
      ],
      periodType: { type: 'cpu', unit: 'nanoseconds' },
      period: 10000000n,
      timeNanos: 1795316400000000000n,
      durationNanos: 10000000000n,
      sampleCount: 3,
      total: 2n ** 70n + 5n,
      absoluteTotal: 2n ** 70n + 19n,
      functions: new Map([
        ['main.handler', { flat: 2n ** 70n, cum: 2n ** 70n + 5n }],
        ['x'.repeat(200), { flat: -7n, cum: 5n }],
        ['café.日本.🔥', { flat: 12n, cum: 2n ** 51n }],
      ]),
      slices: [
        { labels: { endpoint: '/ä' }, total: 5n, functions: new Map([['main.handler', { flat: 0n, cum: 5n }]]) },
      ],
      droppedLabelKeys: ['request_id'],
    };
    const expected =
      'RkJGAQADY3B1C25hbm9zZWNvbmRzAgdzYW1wbGVzBWNvdW50A2NwdQtuYW5vc2Vjb25kcwEDY3B1C25hbm9zZWNvbmRzgNrECYCA95afsJ/qMYCQ38BKA4qAgICAgICAgIACAaaAgICAgICAgIACAwxtYWluLmhhbmRsZXLIAXh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4EWNhZsOpLuaXpeacrC7wn5SlAwCAgICAgICAgICAAoqAgICAgICAgIACAQ0KAhiAgICAgICACAEBAQhlbmRwb2ludAMvw6QKAQAACgEBCnJlcXVlc3RfaWQ=';
    expect(Buffer.from(serializeFold(fold)).toString('base64')).toBe(expected);
    expect(deserializeFold(Buffer.from(expected, 'base64'))).toEqual(fold);
  });

  it('is compact: a fold of large.cpu takes far less than its JSON', () => {
    const fold = foldProfile(readFileSync(join(PROFILES, 'google-pprof/large.cpu')));
    const json = JSON.stringify([...fold.functions].map(([n, v]) => [n, String(v.flat), String(v.cum)]));
    expect(serializeFold(fold).length).toBeLessThan(json.length);
  });

  it('rejects other bytes, other versions and truncation', () => {
    const bytes = serializeFold(foldProfile(new TextEncoder().encode('a;b 1\n')));
    expect(() => deserializeFold(new Uint8Array([1, 2, 3, 4]))).toThrow(FoldCodecError);
    const v2 = bytes.slice();
    v2[3] = 2;
    expect(() => deserializeFold(v2)).toThrow(/unsupported version 2/);
    for (let n = 0; n < bytes.length; n++) expect(() => deserializeFold(bytes.subarray(0, n))).toThrow(FoldCodecError);
  });
});
