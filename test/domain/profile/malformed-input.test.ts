import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_INFLATED_BYTES, foldProfile, ProfileDecodeError } from '../../../src/domain/profile';
import { PROFILES } from './corpus';
import { WireWriter } from './pprof-builder';
import { foldOrDecodeError, prng } from './malformed';

const REAL = [
  'google-pprof/large.cpu',
  'parca/labels.pb.gz',
  'grafana-pyroscope/heap.pb',
  'grafana-pyroscope/cpu-js.pb.gz',
  'golang-go/default.pgo',
  'speedscope/sucrase.cpuprofile',
  'speedscope/simple.speedscope.json',
  'flamegraph/perf-vertx-stacks-01-collapsed-all.txt',
  'speedscope/heavy.jfr', // a JDK 17 JFR recording (more JFR fuzz: jfr/jfr-malformed.test.ts)
];

const inflate = (b: Buffer) => (b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b);

describe('truncated real files: a clear error or a bounded result, never a crash', () => {
  for (const file of REAL) {
    it(file, () => {
      const raw = readFileSync(join(PROFILES, file));
      for (const bytes of [raw, inflate(raw)]) {
        for (let tenth = 0; tenth < 10; tenth++) {
          const cut = Math.floor((bytes.length * tenth) / 10);
          foldOrDecodeError(bytes.subarray(0, cut), `${file} cut at ${cut}`);
        }
      }
    });
  }

  it('names the byte offset when a pprof message is cut mid-field', () => {
    const raw = inflate(readFileSync(join(PROFILES, 'google-pprof/large.cpu')));
    const err = (() => {
      try {
        foldProfile(raw.subarray(0, Math.floor(raw.length / 2)));
      } catch (e: unknown) {
        return e as ProfileDecodeError;
      }
      throw new Error('expected an error');
    })();
    expect(err).toBeInstanceOf(ProfileDecodeError);
    expect(err.format).toBe('pprof');
  });
});

describe('bit flips in real pprof files (seeded)', () => {
  for (const file of [
    'google-pprof/large.cpu',
    'parca/labels.pb.gz',
    'grafana-pyroscope/pprof_heap',
    'speedscope/heavy.jfr',
  ]) {
    it(file, () => {
      const raw = inflate(readFileSync(join(PROFILES, file)));
      const random = prng(0xf1a3b111);
      const outcomes = { fold: 0, error: 0 };
      for (let i = 0; i < 60; i++) {
        const bytes = Uint8Array.from(raw);
        for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
          const at = Math.floor(random() * bytes.length);
          bytes[at]! ^= 1 << Math.floor(random() * 8);
        }
        outcomes[foldOrDecodeError(bytes, `${file} flip #${i}`)]++;
      }
      expect(outcomes.fold + outcomes.error).toBe(60);
    });
  }
});

describe('random bytes', () => {
  it('never crash the decoders', () => {
    const random = prng(42);
    for (let i = 0; i < 300; i++) {
      const bytes = new Uint8Array(Math.floor(random() * 2048));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      if (i % 3 === 0 && bytes.length > 2) bytes.set([0x1f, 0x8b]); // pretend to be gzip
      if (i % 3 === 1 && bytes.length > 1) bytes[0] = 0x0a; // pretend to start with a pprof sample_type
      foldOrDecodeError(bytes, `random #${i}`);
    }
  });

  it('rejects empty input', () => {
    expect(() => foldProfile(new Uint8Array(0))).toThrow(ProfileDecodeError);
  });
});

describe('gzip bomb', () => {
  it('is refused at the inflated-size cap, not inflated', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    expect(bomb.length).toBeLessThan(200 * 1024);
    const started = Date.now();
    expect(() => foldProfile(bomb, { maxInflatedBytes: 1024 * 1024 })).toThrow(
      /gzip: inflated size exceeds the limit of 1048576 bytes/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('defaults the cap to 512 MiB', () => {
    expect(DEFAULT_MAX_INFLATED_BYTES).toBe(512 * 1024 * 1024);
  });

  it('reports corrupt gzip as a gzip error', () => {
    const gz = gzipSync(Buffer.from('a;b 1\n'));
    gz[gz.length - 6]! ^= 0xff;
    expect(() => foldProfile(gz)).toThrow(/^gzip: /);
  });
});

describe('scale: bounded results on hostile sizes', () => {
  it('slices 10^6 distinct label values: the 1000 costliest are kept, the rest fold into __other__, the fold stays exact', () => {
    const n = 1_000_000;
    const w = new WireWriter();
    w.bytesField(1, new WireWriter().varintField(1, 1).varintField(2, 2).bytes());
    const strings = ['', 'samples', 'count', 'request_id', 'endpoint', '/a', '/b', 'handler'];
    const first = strings.length;
    for (let i = 0; i < n; i++) {
      const labels = new WireWriter()
        .bytesField(
          3,
          new WireWriter()
            .varintField(1, 3)
            .varintField(2, first + i)
            .bytes(),
        )
        .bytesField(
          3,
          new WireWriter()
            .varintField(1, 4)
            .varintField(2, 5 + (i % 2))
            .bytes(),
        );
      w.bytesField(
        2,
        concat(
          new WireWriter()
            .packed(1, [1])
            .packed(2, [1 + (i % 3)])
            .bytes(),
          labels.bytes(),
        ),
      );
    }
    w.bytesField(
      4,
      new WireWriter().varintField(1, 1).bytesField(4, new WireWriter().varintField(1, 1).bytes()).bytes(),
    );
    w.bytesField(5, new WireWriter().varintField(1, 1).varintField(2, 7).bytes());
    for (const s of strings) w.string(6, s);
    for (let i = 0; i < n; i++) w.string(6, `req-${i}`);
    const started = Date.now();
    const fold = foldProfile(w.bytes(), { labelKeys: ['request_id', 'endpoint'], maxLabelValues: 1000 });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(fold.sampleCount).toBe(n);
    expect(fold.droppedLabelKeys).toEqual(['request_id']);
    expect(fold.total).toBe(BigInt(2 * n - 1)); // values cycle 1, 2, 3: sum over 10^6 samples
    // The costliest are the samples of value 3 (i % 3 == 2); ties go to the first in the string table: req-2, req-5, ...
    const kept = fold.slices!.filter((s) => s.labels.request_id !== '__other__');
    expect(kept).toHaveLength(1000);
    expect(kept.every((s) => s.total === 3n)).toBe(true);
    expect(new Set(kept.map((s) => s.labels.request_id))).toEqual(
      new Set(Array.from({ length: 1000 }, (_, j) => `req-${3 * j + 2}`)),
    );
    const other = fold.slices!.filter((s) => s.labels.request_id === '__other__');
    expect(other.map((s) => s.labels.endpoint).sort()).toEqual(['/a', '/b']);
    expect(fold.slices!.reduce((t, s) => t + s.total, 0n)).toBe(fold.total);
  });

  it('folds a 100k-frame pprof stack of distinct functions', () => {
    const depth = 100_000;
    const w = new WireWriter();
    w.bytesField(1, new WireWriter().varintField(1, 1).varintField(2, 2).bytes());
    const ids = Array.from({ length: depth }, (_, i) => i + 1);
    w.bytesField(2, new WireWriter().packed(1, ids).packed(2, [7]).bytes());
    for (const id of ids) {
      w.bytesField(
        4,
        new WireWriter().varintField(1, id).bytesField(4, new WireWriter().varintField(1, id).bytes()).bytes(),
      );
      w.bytesField(
        5,
        new WireWriter()
          .varintField(1, id)
          .varintField(2, 2 + id)
          .bytes(),
      );
    }
    for (const s of ['', 'samples', 'count']) w.string(6, s);
    for (const id of ids) w.string(6, `f${id}`);
    const fold = foldProfile(w.bytes());
    expect(fold.functions.size).toBe(depth);
    expect(fold.functions.get('f1')).toEqual({ flat: 7n, cum: 7n });
    expect(fold.functions.get(`f${depth}`)).toEqual({ flat: 0n, cum: 7n });
  });

  it('folds a 100k-frame folded line, .cpuprofile chain and speedscope evented nesting', () => {
    const depth = 100_000;
    const names = Array.from({ length: depth }, (_, i) => `f${i % 1000}`);
    const folded = foldProfile(Buffer.from(`${names.join(';')} 3\n`));
    expect(folded.functions.get('f0')).toEqual({ flat: 0n, cum: 3n });
    expect(folded.functions.get('f999')).toEqual({ flat: 3n, cum: 3n });

    const nodes = names.map((name, i) => ({
      id: i + 1,
      callFrame: { functionName: name },
      children: i + 1 < depth ? [i + 2] : [],
    }));
    const cpuprofile = { nodes, startTime: 0, endTime: 10, samples: [depth], timeDeltas: [0] };
    expect(foldProfile(Buffer.from(JSON.stringify(cpuprofile))).functions.get('f0')).toEqual({ flat: 0n, cum: 10n });

    const frames = Array.from({ length: depth }, (_, i) => ({ name: `g${i}` }));
    const events = [
      ...frames.map((_, i) => ({ type: 'O', at: 0, frame: i })),
      ...frames.map((_, i) => ({ type: 'C', at: 5, frame: depth - 1 - i })),
    ];
    const speedscope = {
      $schema: 'https://www.speedscope.app/file-format-schema.json',
      shared: { frames },
      profiles: [{ type: 'evented', unit: 'none', startValue: 0, endValue: 5, events }],
    };
    const fold = foldProfile(Buffer.from(JSON.stringify(speedscope)));
    expect(fold.functions.get(`g${depth - 1}`)).toEqual({ flat: 5n, cum: 5n });
    expect(fold.total).toBe(5n);
  });

  it('rejects a .cpuprofile whose children form a cycle', () => {
    const nodes = [
      { id: 1, callFrame: { functionName: 'a' }, children: [2] },
      { id: 2, callFrame: { functionName: 'b' }, children: [1] },
    ];
    expect(() =>
      foldProfile(Buffer.from(JSON.stringify({ nodes, samples: [1], timeDeltas: [0], startTime: 0, endTime: 1 }))),
    ).toThrow(/cycle/);
  });

  it('names the line of a malformed folded line', () => {
    expect(() => foldProfile(Buffer.from('a;b 1\na;b two\n'))).toThrow(/folded: .* \(at line 2\)/);
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
