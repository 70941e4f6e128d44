import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { foldProfile, ProfileDecodeError, type Fold } from '../../../src/domain/profile';
import { encodeTestProfile, WireWriter } from './pprof-builder';

const CPU: [string, string][] = [
  ['samples', 'count'],
  ['cpu', 'nanoseconds'],
];

function fn(fold: Fold, name: string) {
  return fold.functions.get(name);
}

describe('fold semantics (small in-code pprof fixtures)', () => {
  it('gives flat to the leaf and cum once per function per sample, also under recursion', () => {
    const bytes = encodeTestProfile({
      sampleTypes: CPU,
      samples: [
        { stack: ['a', 'b', 'a', 'main'], values: [1, 10] },
        { stack: ['b', 'b', 'b', 'main'], values: [2, 20] },
        { stack: ['main'], values: [4, 40] },
      ],
    });
    const fold = foldProfile(bytes);
    expect(fold.total).toBe(70n);
    expect(fn(fold, 'a')).toEqual({ flat: 10n, cum: 10n });
    expect(fn(fold, 'b')).toEqual({ flat: 20n, cum: 30n });
    expect(fn(fold, 'main')).toEqual({ flat: 40n, cum: 70n });
  });

  it('treats inlined Lines of one Location as separate functions, leaf first', () => {
    const bytes = encodeTestProfile({
      sampleTypes: CPU,
      samples: [{ stack: [['inlinedLeaf', 'caller'], 'main'], values: [1, 5] }],
    });
    const fold = foldProfile(bytes);
    expect(fn(fold, 'inlinedLeaf')).toEqual({ flat: 5n, cum: 5n });
    expect(fn(fold, 'caller')).toEqual({ flat: 0n, cum: 5n });
  });

  it('names unsymbolized frames [mapping basename] or <unknown>, as pprof prints them', () => {
    const bytes = encodeTestProfile({
      sampleTypes: CPU,
      samples: [
        { stack: [{ address: 0x1000, mapping: '/usr/lib/libc.so.6' }, 'main'], values: [1, 3] },
        { stack: [{ address: 0x2000 }, 'main'], values: [1, 4] },
        { stack: [{ address: 0x3000, mapping: '/usr/lib/libc.so.6' }], values: [1, 5] },
      ],
    });
    const fold = foldProfile(bytes);
    expect(fn(fold, '[libc.so.6]')).toEqual({ flat: 8n, cum: 8n });
    expect(fn(fold, '<unknown>')).toEqual({ flat: 4n, cum: 4n });
  });

  it('picks default_sample_type, else the last type; by name, type/unit or index on request', () => {
    const samples = [{ stack: ['f'], values: [3, 30, 300] }];
    const types: [string, string][] = [
      ['samples', 'count'],
      ['cpu', 'nanoseconds'],
      ['wall', 'nanoseconds'],
    ];
    expect(foldProfile(encodeTestProfile({ sampleTypes: types, samples })).total).toBe(300n);
    expect(foldProfile(encodeTestProfile({ sampleTypes: types, samples, defaultSampleType: 'cpu' })).total).toBe(30n);
    const bytes = encodeTestProfile({ sampleTypes: types, samples });
    expect(foldProfile(bytes, { sampleType: 'samples' }).total).toBe(3n);
    expect(foldProfile(bytes, { sampleType: 'cpu/nanoseconds' }).total).toBe(30n);
    expect(foldProfile(bytes, { sampleType: '0' }).total).toBe(3n);
    expect(() => foldProfile(bytes, { sampleType: 'alloc_space' })).toThrow(
      /sample type "alloc_space" is not in the profile; it has: samples\/count, cpu\/nanoseconds, wall\/nanoseconds/,
    );
  });

  it('keeps values past 2^53 exact and sums negative values as pprof does (total = sum of |v|)', () => {
    const big = 2n ** 62n + 7n;
    const fold = foldProfile(
      encodeTestProfile({
        sampleTypes: CPU,
        samples: [
          { stack: ['f'], values: [1, big] },
          { stack: ['g', 'f'], values: [1, big] },
        ],
      }),
    );
    expect(fold.total).toBe(2n * big);
    expect(fn(fold, 'f')).toEqual({ flat: big, cum: 2n * big });
    const delta = foldProfile(
      encodeTestProfile({
        sampleTypes: CPU,
        samples: [
          { stack: ['f'], values: [1, -30n] },
          { stack: ['g'], values: [1, 50n] },
        ],
      }),
    );
    expect(delta.total).toBe(20n);
    expect(delta.absoluteTotal).toBe(80n);
    expect(fn(delta, 'f')).toEqual({ flat: -30n, cum: -30n });
  });

  it('leaves out functions whose flat and cum are both 0', () => {
    const fold = foldProfile(
      encodeTestProfile({
        sampleTypes: CPU,
        samples: [
          { stack: ['f'], values: [0, 0] },
          { stack: ['g'], values: [1, 1] },
        ],
      }),
    );
    expect([...fold.functions.keys()]).toEqual(['g']);
    expect(fold.sampleCount).toBe(2);
  });

  it('reads gzipped and plain input alike', () => {
    const bytes = encodeTestProfile({ sampleTypes: CPU, samples: [{ stack: ['f'], values: [1, 9] }] });
    expect(foldProfile(gzipSync(bytes))).toEqual(foldProfile(bytes));
  });
});

describe('pprof validation: garbage errors, it does not decode into nonsense', () => {
  function profileWith(build: (w: WireWriter) => void): Uint8Array {
    const w = new WireWriter();
    build(w);
    return w.bytes();
  }
  const valueType = (t: number, u: number) => new WireWriter().varintField(1, t).varintField(2, u).bytes();

  it('rejects a first string that is not empty', () => {
    const bytes = profileWith((w) => w.string(6, 'x'));
    expect(() => foldProfile(bytes)).toThrow(/string_table\[0\] to be the empty string/);
  });

  it('rejects a sample whose value count differs from the sample type count', () => {
    const bytes = profileWith((w) => {
      w.bytesField(1, valueType(1, 2));
      w.bytesField(2, new WireWriter().packed(2, [1, 2]).bytes());
      ['', 'cpu', 'nanoseconds'].forEach((s) => w.string(6, s));
    });
    expect(() => foldProfile(bytes)).toThrow(ProfileDecodeError);
    expect(() => foldProfile(bytes)).toThrow(/a sample with 1 values \(one per sample type\), found 2 \(at byte \d+\)/);
  });

  it('rejects out-of-range string indices and unknown location ids', () => {
    const badString = profileWith((w) => {
      w.bytesField(1, valueType(1, 9));
      ['', 'cpu'].forEach((s) => w.string(6, s));
    });
    expect(() => foldProfile(badString)).toThrow(
      /sample_type.unit refers to string 9, but the string table has 2 entries/,
    );
    const badLocation = profileWith((w) => {
      w.bytesField(1, valueType(1, 2));
      w.bytesField(2, new WireWriter().packed(1, [42]).packed(2, [5]).bytes());
      ['', 'cpu', 'nanoseconds'].forEach((s) => w.string(6, s));
    });
    expect(() => foldProfile(badLocation)).toThrow(/location id 42, which is not in the profile/);
  });

  it('rejects functions and locations with the reserved id 0', () => {
    const bytes = profileWith((w) => {
      w.bytesField(5, new WireWriter().varintField(1, 0).varintField(2, 1).bytes());
      ['', 'f'].forEach((s) => w.string(6, s));
    });
    expect(() => foldProfile(bytes)).toThrow(/function with reserved ID=0/);
  });

  it('rejects a length that runs past the end, naming the byte offset', () => {
    const bytes = profileWith((w) => {
      w.string(6, '');
      w.tag(2, 2).varint(100).varint(1).varint(2);
    });
    const err = catchError(() => foldProfile(bytes));
    expect(err).toBeInstanceOf(ProfileDecodeError);
    expect(err).toMatchObject({ format: 'pprof', offset: 3, line: null });
    expect((err as Error).message).toBe(
      'pprof: expected 100 bytes of a length-delimited field, found only 2 (at byte 3)',
    );
  });
});

export function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (err: unknown) {
    return err;
  }
  throw new Error('expected an error');
}
