import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldProfile, type Fold } from '../../../src/domain/profile';
import { parseLegacyPprof } from '../../../src/domain/profile/legacy/legacy.decoder';
import { PROFILES } from './corpus';
import { decodeError, foldOrDecodeError, prng } from './malformed';

/** The 11 legacy files of the shared corpus (their refs are checked by pprof-golden.test.ts). */
const LEGACY_FILES = [
  'cppbench.contention',
  'cppbench.cpu',
  'cppbench.heap',
  'cppbench.small.contention',
  'driver_cppbench.cpu',
  'go.crc32.cpu',
  'gobench.cpu',
  'gobench.heap',
  'java.contention',
  'java.cpu',
  'java.heap',
].map((f) => `google-pprof/${f}`);

/** A gperftools binary CPU profile: header, samples (count, leaf-first stack), end marker, then `tail` text. */
function binaryCpu(
  word: 32 | 64,
  littleEndian: boolean,
  java: boolean,
  periodMicros: number,
  samples: [number, number[]][],
  tail: string,
): Uint8Array {
  const words = [0, 3, java ? 1 : 0, periodMicros, 0];
  for (const [count, stack] of samples) words.push(count, stack.length, ...stack);
  words.push(0, 1, 0);
  const size = word / 8;
  const text = Buffer.from(tail);
  const out = new Uint8Array(words.length * size + text.length);
  const view = new DataView(out.buffer);
  words.forEach((w, i) =>
    size === 4 ? view.setUint32(i * size, w, littleEndian) : view.setBigUint64(i * size, BigInt(w), littleEndian),
  );
  out.set(text, words.length * size);
  return out;
}

const text = (s: string) => Buffer.from(s.replace(/^\n/, ''));
const MAPS64 =
  '00400000-00500000 r-xp 00000000 08:01 1 /usr/bin/prog\n7f0000000000-7f0000100000 r-xp 00000000 08:01 2 /lib/libc-2.15.so\n';
const MAPS32 =
  '00400000-00500000 r-xp 00000000 08:01 1 /usr/bin/prog\nb7000000-b7100000 r-xp 00000000 08:01 2 /lib/libc-2.15.so\n';
const JAVA_SYMBOLS = [
  '0x00000001 com.example.Foo.bar (Foo.java:12)',
  '0x00000002 com.example.Foo.baz (Foo.java:-1)',
  '0x00000003 java.lang.Thread.run (Thread.java:745)',
  '0x00000004 Java_native (/usr/lib/libjvm.so)',
  '0x00000005 some generated stub/JIT code',
  '',
].join('\n');

type Expected = Record<string, { total: bigint; functions: Record<string, [bigint, bigint]> }>;

/**
 * Small inputs for the legacy variants the shared corpus lacks. Every expectation was produced by `go tool pprof`
 * (Go 1.19.8) on these exact bytes: `-symbolize=none -proto`, folded per sample type.
 */
const FIXTURES: { name: string; bytes: Uint8Array; expected: Expected }[] = [
  {
    name: '32-bit big-endian CPU; the signal-handler frame (second in every sample) is stripped',
    bytes: binaryCpu(
      32,
      false,
      false,
      10000,
      [
        [3, [0x401000, 0x400500, 0x402001, 0x403001]],
        [2, [0x402000, 0x400500, 0x403001]],
        [1, [0xb7000010, 0x400500, 0x402001, 0x403001]],
      ],
      MAPS32,
    ),
    expected: {
      'samples/count': { total: 6n, functions: { '[libc-2.15.so]': [1n, 1n], '[prog]': [5n, 6n] } },
      'cpu/nanoseconds': {
        total: 60000000n,
        functions: { '[libc-2.15.so]': [10000000n, 10000000n], '[prog]': [50000000n, 60000000n] },
      },
    },
  },
  {
    name: '64-bit big-endian CPU, period 1 ms',
    bytes: binaryCpu(
      64,
      false,
      false,
      1000,
      [
        [5, [0x401000, 0x401001, 0x402001]],
        [4, [0x402000, 0x403001]],
        [1, [0x7f0000000010, 0x402001, 0x403001]],
      ],
      MAPS64,
    ),
    expected: {
      'samples/count': { total: 10n, functions: { '[libc-2.15.so]': [1n, 1n], '[prog]': [9n, 10n] } },
      'cpu/nanoseconds': {
        total: 10000000n,
        functions: { '[libc-2.15.so]': [1000000n, 1000000n], '[prog]': [9000000n, 10000000n] },
      },
    },
  },
  {
    name: 'Java binary CPU (32-bit little-endian) with file:line, library and JIT-stub symbols',
    bytes: binaryCpu(
      32,
      true,
      true,
      10000,
      [
        [2, [1, 2, 3]],
        [1, [4, 3]],
        [3, [5]],
      ],
      JAVA_SYMBOLS,
    ),
    expected: {
      'samples/count': {
        total: 6n,
        functions: {
          Java_native: [1n, 1n],
          STUB: [3n, 3n],
          'com.example.Foo.bar': [2n, 2n],
          'com.example.Foo.baz': [0n, 2n],
          'java.lang.Thread.run': [0n, 3n],
        },
      },
      'cpu/nanoseconds': {
        total: 60000000n,
        functions: {
          Java_native: [10000000n, 10000000n],
          STUB: [30000000n, 30000000n],
          'com.example.Foo.bar': [20000000n, 20000000n],
          'com.example.Foo.baz': [0n, 20000000n],
          'java.lang.Thread.run': [0n, 30000000n],
        },
      },
    },
  },
  {
    name: 'Go goroutine count profile with a comment and a /proc/maps section',
    bytes: text(`
# comment
goroutine profile: total 7
4 @ 0x42f1a5 0x42f269 0x405f2e 0x45b0c1
2 @ 0x42f1a5 0x43f3e5 0x45b0c1
1 @ 0x7f0000001000 0x45b0c1

--- Memory map: ---
00400000-00500000 r-xp 00000000 08:01 1234 /usr/bin/server
7f0000000000-7f0000100000 r-xp 00000000 08:01 99 /lib/x86_64-linux-gnu/libc.so.6
`),
    expected: { 'goroutine/count': { total: 7n, functions: { '[libc.so.6]': [1n, 1n], '[server]': [6n, 7n] } } },
  },
  {
    name: 'threadz with "same as previous thread"',
    bytes: text(`
--- threadz 1 ---

--- Thread 7f3a (name: main/123) stack: ---
  PC: 0x401000 0x402000 0x403000
--- Thread 7f3b (name: worker/124) stack: ---
  0x401000 0x402000
  0x404000
--- Thread 7f3c (name: worker/125) stack: ---
  same as previous thread
--- Thread 7f3d (name: idle/126) stack: ---
  0x7f0000000500 0x403000
--- Memory map: ---
  00400000-00480000: /bin/app
  7f0000000000-7f0000100000: /lib/libfoo.so
`),
    expected: { 'thread/count': { total: 4n, functions: { '[app]': [3n, 4n], '[libfoo.so]': [1n, 1n] } } },
  },
  {
    name: 'growthz (period 1, no scaling) with MAPPED_LIBRARIES',
    bytes: text(`
heap profile:   3:   6144 [   3:   6144] @ growthz
     1:     2048 [     1:     2048] @ 0x401001 0x402002
     2:     4096 [     2:     4096] @ 0x401001 0x403003
MAPPED_LIBRARIES:
00400000-00500000 r-xp 00000000 08:01 1 /opt/growth
`),
    expected: {
      'objects/count': { total: 3n, functions: { '[growth]': [3n, 3n] } },
      'space/bytes': { total: 6144n, functions: { '[growth]': [6144n, 6144n] } },
    },
  },
  {
    name: 'heapprofile with allocation columns and a negative in-use sample (no mapping: <unknown>)',
    bytes: text(`
heap profile:    4:   4000 [    10:  10000] @ heapprofile
     1:     1000 [     5:  5000] @ 0x401001 0x402002
     3:     3000 [     5:  5000] @ 0x401001 0x403003
    -1:    -100 [     0:     0] @ 0x404004
`),
    expected: {
      'alloc_objects/count': { total: 10n, functions: { '<unknown>': [10n, 10n] } },
      'alloc_space/bytes': { total: 10000n, functions: { '<unknown>': [10000n, 10000n] } },
      'inuse_objects/count': { total: 5n, functions: { '<unknown>': [3n, 3n] } },
      'inuse_space/bytes': { total: 4100n, functions: { '<unknown>': [3900n, 3900n] } },
    },
  },
  {
    name: 'heap_v2 sampled at 512 KiB: small allocations are scaled up (scaleHeapSample)',
    bytes: text(`
heap profile:    3:  3000000 [    3:  3000000] @ heap_v2/524288
     1:  1000000 [     1:  1000000] @ 0x401001 0x402002
     2:  2000000 [     2:  2000000] @ 0x401001 0x403003
     1:       16 [     1:       16] @ 0x401001 0x403003
`),
    expected: {
      'objects/count': { total: 32771n, functions: { '<unknown>': [32771n, 32771n] } },
      'space/bytes': { total: 4047380n, functions: { '<unknown>': [4047380n, 4047380n] } },
    },
  },
  {
    name: 'Go mutex text: delay in cycles becomes ns, counts × sampling period',
    bytes: text(`
--- mutex:
cycles/second=2000000000
sampling period=5
 1000 2 @ 0x401001 0x402002 0x403003
 5000 1 @ 0x401001 0x403003
`),
    expected: {
      'contentions/count': { total: 15n, functions: { '<unknown>': [15n, 15n] } },
      'delay/nanoseconds': { total: 15000n, functions: { '<unknown>': [15000n, 15000n] } },
    },
  },
  {
    name: 'contentionz with hex attribute, glog-prefixed map lines, (deleted) library, non-executable mapping',
    bytes: text(`
--- contentionz 1 ---
cycles/second = 1000000000
sampling period = 0x10
ms since reset = 1000
       500     5 @ 0x401001 0x7f0000000101
       200     2 @ 0x600001
--- Memory map: ---
I0101 00:00:00.000000 1234 file.cc:10] base=/srv
I0101 00:00:00.000000 1234 file.cc:11] 00400000-00500000: $base/bin/main
7f0000000000-7f0000100000 r-xp 00000000 08:01 99 /lib/libpthread-2.15.so (deleted)
00600000-00700000 rw-p 00000000 08:01 1 /srv/bin/main
`),
    expected: {
      'contentions/count': {
        total: 112n,
        functions: { '<unknown>': [32n, 32n], '[libpthread-2.15.so]': [0n, 80n], '[main]': [80n, 80n] },
      },
      'delay/nanoseconds': {
        total: 11200n,
        functions: { '<unknown>': [3200n, 3200n], '[libpthread-2.15.so]': [0n, 8000n], '[main]': [8000n, 8000n] },
      },
    },
  },
];

function asExpected(fold: Fold): Expected[string] {
  const functions: Record<string, [bigint, bigint]> = {};
  for (const [name, v] of [...fold.functions].sort(([a], [b]) => (a < b ? -1 : 1))) functions[name] = [v.flat, v.cum];
  return { total: fold.absoluteTotal!, functions };
}

describe('legacy pprof variants equal go tool pprof (fixtures checked against Go 1.19.8)', () => {
  for (const { name, bytes, expected } of FIXTURES) {
    it(name, () => {
      const first = foldProfile(bytes);
      expect(first.format).toBe('pprof');
      expect(first.sampleTypes.map((st) => `${st.type}/${st.unit}`)).toEqual(Object.keys(expected));
      for (const type of Object.keys(expected)) {
        const fold = foldProfile(bytes, { sampleType: type });
        expect({ type, ...asExpected(fold) }).toEqual({ type, ...expected[type]! });
      }
    });
  }
});

describe('legacy parse details, as go tool pprof -raw shows them', () => {
  const stacks = (bytes: Uint8Array) =>
    parseLegacyPprof(bytes).samples.map((s) => [s.values.map(Number), s.locations.map((l) => l.address.toString(16))]);

  it('binary CPU: non-leaf addresses move back by one; the handler frame present in every sample goes', () => {
    const bytes = binaryCpu(
      32,
      false,
      false,
      10000,
      [
        [3, [0x401000, 0x400500, 0x402001, 0x403001]],
        [2, [0x402000, 0x400500, 0x403001]],
        [1, [0xb7000010, 0x400500, 0x402001, 0x403001]],
      ],
      MAPS32,
    );
    expect(stacks(bytes)).toEqual([
      [
        [3, 30000000],
        ['401000', '402000', '403000'],
      ],
      [
        [2, 20000000],
        ['402000', '403000'],
      ],
      [
        [1, 10000000],
        ['b7000010', '402000', '403000'],
      ],
    ]);
  });

  it('binary CPU: a leaf recorded twice (unwound copy adjusted by -1) is dropped once', () => {
    const bytes = binaryCpu(
      64,
      true,
      false,
      10000,
      [
        [5, [0x401000, 0x401000, 0x402001]],
        [2, [0x403000, 0x402001]],
      ],
      MAPS64,
    );
    expect(stacks(bytes)).toEqual([
      [
        [5, 50000000],
        ['401000', '402000'],
      ],
      [
        [2, 20000000],
        ['403000', '402000'],
      ],
    ]);
  });

  it('heap_v2: count and size divided by 1 - exp(-avg/rate), truncated; the block size is unscaled', () => {
    const [, , small] = parseLegacyPprof(FIXTURES[7]!.bytes).samples;
    expect(small!.values).toEqual([32768n, 524296n]);
  });

  it('Go heap (heap/RATE): the period is half the rate, four sample types when alloc differs from in-use', () => {
    const p = parseLegacyPprof(readFileSync(join(PROFILES, 'google-pprof/gobench.heap')));
    expect(p.period).toBe(524288n);
    expect(p.sampleTypes.map((t) => t.type)).toEqual(['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space']);
  });

  it('a sample without a stack counts in the total only (gobench.heap has one)', () => {
    const fold = foldProfile(readFileSync(join(PROFILES, 'google-pprof/gobench.heap')), { sampleType: 'inuse_space' });
    expect(fold.absoluteTotal).toBe(7721316n);
    expect(fold.functions.get('<unknown>')).toEqual({ flat: 7196884n, cum: 7196884n });
  });

  it('with label keys requested, everything is one {} slice (legacy profiles carry no string labels)', () => {
    const fold = foldProfile(readFileSync(join(PROFILES, 'google-pprof/cppbench.cpu')), { labelKeys: ['endpoint'] });
    expect(fold.slices?.map((s) => [s.labels, s.total])).toEqual([[{}, fold.total]]);
    expect(fold.droppedLabelKeys).toEqual([]);
  });
});

describe('malformed legacy input: clear errors', () => {
  it.each([
    [
      'a heap sample that is not one',
      'heap profile: 1: 2 [ 1: 2] @ heapprofile\n1: 2 [1: 2] @ 0x1\ngarbage here\n',
      /legacy heap profile: expected "N: BYTES \[N: BYTES\] @ 0xADDR\.\.\.", found "garbage here" \(at line 3\)/,
    ],
    [
      'in-use count 0 with bytes',
      'heap profile: 1: 2 [ 1: 2] @ heapprofile\n0: 5 [0: 0] @ 0x1\n',
      /inuse count was 0 but inuse bytes was 5 \(at line 2\)/,
    ],
    [
      'an address past 64 bits',
      '--- mutex:\n 1 1 @ 0x10000000000000000\n',
      /failed to parse as hex 64-bit number: 0x10000000000000000 \(at line 2\)/,
    ],
    [
      'a value past int64',
      'heap profile: 1: 2 [ 1: 2] @ heapprofile\n99999999999999999999: 5 [1: 5] @ 0x1\n',
      /value out of int64 range \(at line 2\)/,
    ],
    [
      'a Java heap sample with count 0',
      '--- heapz 1 ---\nformat = java\nresolution = bytes\n 10 0 @ 0x1\n',
      /second value must be non-zero/,
    ],
    [
      'a Java heap profile without resolution',
      '--- heapz 1 ---\nformat = java\n 10 1 @ 0x1\n',
      /missing sample type information/,
    ],
    [
      'a Go count line that is not one',
      'goroutine profile: total 1\n1 @ 0x1 zz\n',
      /malformed profile format.*\(at line 2\)/,
    ],
    [
      'a contention line that is not a sample',
      '--- contentionz 1 ---\ncycles/second = 1\nnot a sample\n',
      /unrecognized profile format/,
    ],
  ])('%s', (_, input, message) => {
    expect(decodeError(Buffer.from(input)).message).toMatch(message);
  });

  it('a line of 64 KiB or more stops the parse, as bufio.Scanner does in pprof', () => {
    const input = `heap profile: 1: 2 [ 1: 2] @ heapprofile\n1: 2 [1: 2] @ ${'0x1 '.repeat(16384)}\n`;
    expect(decodeError(Buffer.from(input)).message).toMatch(
      /line too long \(pprof reads lines of at most 64 KiB\) \(at line 2\)/,
    );
  });

  it('a binary CPU sample deeper than the remaining input (in 4-byte words) is not a legacy CPU profile', () => {
    const bytes = binaryCpu(64, true, false, 10000, [[1, [0x401000, 0x402000, 0x403000]]], '').subarray(0, 40 + 16 + 8);
    expect(decodeError(bytes).message).toMatch(/^pprof: unrecognized profile format/);
  });

  it("a 64-bit stack cut within pprof's 4-byte-word bound reads the missing addresses as 0 (then strips frame 2, as Go 1.19.8 shows)", () => {
    const bytes = binaryCpu(64, true, false, 10000, [[1, [0x401000, 0x402000]]], '').subarray(0, 40 + 16 + 8);
    expect(parseLegacyPprof(bytes).samples.map((s) => [s.values, s.locations.map((l) => l.address)])).toEqual([
      [[1n, 10000000n], [0x401000n]],
    ]);
  });

  it('a cut legacy text header is an error, not a folded line', () => {
    expect(decodeError(Buffer.from('heap profile:   3:   6144 [   3:   61')).message).toMatch(
      /unrecognized legacy text pprof profile/,
    );
  });
});

describe('truncations and bit flips of the real legacy files: a clear error or a bounded result', () => {
  for (const file of LEGACY_FILES) {
    it(file, () => {
      const raw = readFileSync(join(PROFILES, file));
      const random = prng(0x1e6ac7);
      const outcomes = { fold: 0, error: 0 };
      for (let tenth = 0; tenth < 10; tenth++) {
        outcomes[
          foldOrDecodeError(raw.subarray(0, Math.floor((raw.length * tenth) / 10)), `${file} cut at ${tenth}/10`)
        ]++;
      }
      for (let i = 0; i < 40; i++) {
        const bytes = Uint8Array.from(raw);
        for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--)
          bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8);
        outcomes[foldOrDecodeError(bytes, `${file} flip #${i}`)]++;
      }
      expect(outcomes.fold + outcomes.error).toBe(50);
      expect(outcomes.error, 'the empty prefix at least must be refused').toBeGreaterThan(0);
    });
  }

  it('a 100k-frame binary CPU stack folds in bounded time', () => {
    const deep = Array.from({ length: 100_000 }, (_, i) => 0x401000 + i * 16);
    const started = Date.now();
    const fold = foldProfile(
      binaryCpu(
        64,
        true,
        false,
        10000,
        [
          [1, deep],
          [1, deep],
        ],
        MAPS64,
      ),
    );
    expect(fold.functions.get('[prog]')).toEqual({ flat: 20000000n, cum: 20000000n });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
