import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldProfile, type Fold } from '../../../src/domain/profile';
import { PROFILES } from './corpus';
import { WireWriter } from './pprof-builder';

/** String table of the synthetic profiles: functions f0..f7, then the label every sample carries. */
const STRINGS = ['', 'cpu', 'nanoseconds', 'f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'k', 'v'];
/** Label k=v (string indices 11 and 12). */
const LABEL_K_V = new WireWriter().varintField(1, 11).varintField(2, 12).bytes();
/** Fold options that take the slicing route (every synthetic sample carries `k`). */
const SLICED = { labelKeys: ['k'] };

/** The fold by the slicing route, checked to have taken it: one slice, `k=v`. */
function sliced(bytes: Uint8Array): Fold {
  const fold = foldProfile(bytes, SLICED);
  expect(fold.slices?.map((s) => s.labels)).toEqual([{ k: 'v' }]);
  return fold;
}

/**
 * The fold without slices aggregates samples by stack at first, switches to folding each sample as it is read when
 * stacks turn out to be mostly distinct (a window of 4096 samples with more than half new stacks), and back when
 * they repeat again. Slicing by a label key that the samples carry takes another route (every sample into the stack
 * table, then each distinct stack and slice folded once), an independent way to the same numbers: the synthetic
 * profiles put the label `k=v` on every sample for it. These tests pin that both routes agree, across switches too.
 * A key that no sample carries does not slice: the unsliced fold is then the one `{}` slice.
 */
describe('fold paths: stack table and per-sample fold agree', () => {
  const sameFold = (a: Fold, b: Fold) => {
    expect(a.total).toBe(b.total);
    expect(a.absoluteTotal).toBe(b.absoluteTotal);
    expect(a.sampleCount).toBe(b.sampleCount);
    expect([...a.functions]).toEqual([...b.functions]);
  };

  it.each(['grafana-pyroscope/heap_go_truncated_3.pb.gz', 'google-pprof/large.cpu'])(
    'real profile with more distinct stacks than the dedup window: %s',
    (file) => {
      const bytes = readFileSync(join(PROFILES, file));
      const direct = foldProfile(bytes);
      expect(direct.sampleCount).toBeGreaterThan(2 * 4096);
      const sliced = foldProfile(bytes, { labelKeys: ['no-such-label-key'] });
      expect(sliced.slices).toHaveLength(1);
      expect(sliced.slices![0]!.labels).toEqual({});
      expect(sliced.slices![0]!.total).toBe(direct.total);
      expect([...sliced.slices![0]!.functions]).toEqual([...direct.functions]);
      expect(sliced.droppedLabelKeys).toEqual([]);
      sameFold(direct, sliced);
    },
  );

  /** A profile of `n` samples over functions f0..f7 (location i+1 -> function i+1); stack of sample i from `stack(i)`. */
  /**
   * A profile of `n` samples over functions f0..f7; location l has the Lines `lines(l)` (function ids, leaf first:
   * by default one, function l); stack of sample i from `stack(i)`.
   */
  function synthetic(
    n: number,
    stack: (i: number) => number[],
    value: (i: number) => number | bigint,
    tweak?: (i: number, w: WireWriter) => boolean,
    lines: (location: number) => number[] = (l) => [l],
  ): Uint8Array {
    const w = new WireWriter();
    w.bytesField(1, new WireWriter().varintField(1, 1).varintField(2, 2).bytes());
    for (let i = 0; i < n; i++) {
      if (tweak?.(i, w)) continue;
      const v = value(i);
      const sample = new WireWriter().packed(1, stack(i));
      if (typeof v === 'bigint') sample.bytesField(2, bigVarint(v));
      else sample.packed(2, [v]);
      w.bytesField(2, sample.bytesField(3, LABEL_K_V).bytes());
    }
    for (let f = 1; f <= 8; f++) {
      const location = new WireWriter().varintField(1, f);
      for (const fn of lines(f)) location.bytesField(4, new WireWriter().varintField(1, fn).bytes());
      w.bytesField(4, location.bytes());
      w.bytesField(
        5,
        new WireWriter()
          .varintField(1, f)
          .varintField(2, 2 + f)
          .bytes(),
      );
    }
    STRINGS.forEach((s) => w.string(6, s));
    return w.bytes();
  }

  /** The octal digits of i as location ids 1..8: distinct stacks (with recursion) for distinct i. */
  const digits = (i: number) => Array.from({ length: 6 }, (_, k) => 1 + (Math.floor(i / 8 ** k) % 8));

  /** Naive reference: flat to the leaf, cum once per distinct function per sample. */
  function reference(
    n: number,
    stack: (i: number) => number[],
    value: (i: number) => bigint,
    lines: (location: number) => number[] = (l) => [l],
  ) {
    const flat = new Map<string, bigint>();
    const cum = new Map<string, bigint>();
    let total = 0n;
    for (let i = 0; i < n; i++) {
      const v = value(i);
      const names = stack(i).flatMap((loc) => lines(loc).map((fn) => `f${fn - 1}`));
      total += v;
      flat.set(names[0]!, (flat.get(names[0]!) ?? 0n) + v);
      for (const name of new Set(names)) cum.set(name, (cum.get(name) ?? 0n) + v);
    }
    return { total, flat, cum };
  }

  it('distinct stacks, repeated stacks, and switches either way give the naive reference', () => {
    const n = 40000;
    const stacks: Record<string, (i: number) => number[]> = {
      distinct: digits,
      repeated: (i) => digits(i % 1000),
      lateSwitch: (i) => digits(i < 30000 ? i % 500 : i),
      switchBack: (i) => digits(i < 12000 ? i : i % 12000),
      backAndForth: (i) => digits(Math.floor(i / 5000) % 2 === 0 ? i : i % 700),
    };
    for (const [name, stack] of Object.entries(stacks)) {
      const value = (i: number) => 1000 + (i % 17);
      const bytes = synthetic(n, stack, value);
      const fold = foldProfile(bytes);
      const ref = reference(n, stack, (i) => BigInt(value(i)));
      expect(fold.total, name).toBe(ref.total);
      for (const [fn, v] of fold.functions) {
        expect(v, `${name} ${fn}`).toEqual({ flat: ref.flat.get(fn) ?? 0n, cum: ref.cum.get(fn)! });
      }
      expect(fold.functions.size).toBe(ref.cum.size);
      sameFold(fold, sliced(bytes));
    }
  });

  it('keeps values past 2^53 and negative int64 exact after the switch', () => {
    const n = 30000;
    const value = (i: number): bigint => (i === 25000 ? 2n ** 62n + 3n : i === 26000 ? -7n : BigInt(1 + (i % 5)));
    const bytes = synthetic(n, digits, value);
    const fold = foldProfile(bytes);
    const ref = reference(n, digits, value);
    expect(fold.total).toBe(ref.total);
    let abs = 0n;
    for (let i = 0; i < n; i++) abs += value(i) < 0n ? -value(i) : value(i);
    expect(fold.absoluteTotal).toBe(abs);
    for (const [fn, v] of fold.functions) expect(v).toEqual({ flat: ref.flat.get(fn) ?? 0n, cum: ref.cum.get(fn)! });
    sameFold(fold, sliced(bytes));
  });

  it('walks locations with several frames (inlined calls) in either mode, with values past 2^53 too', () => {
    // Location 8: f7 inlined into f2; location 5: f4 inlined into itself (counted once); location 3: three frames.
    const lines = (l: number): number[] => (l === 8 ? [8, 3] : l === 5 ? [5, 5] : l === 3 ? [3, 1, 6] : [l]);
    const n = 40000;
    const stacks = [digits, (i: number) => digits(i < 12000 ? i : i % 12000)]; // per-sample mode throughout; switching back
    const values = [
      (i: number): bigint => BigInt(1000 + (i % 17)),
      (i: number): bigint => (i === 25000 ? 2n ** 62n + 3n : i === 26000 ? -7n : BigInt(1 + (i % 5))),
    ];
    for (const [stack, value] of stacks.flatMap((st) => values.map((v) => [st, v] as const))) {
      const bytes = synthetic(n, stack, value, undefined, lines);
      const fold = foldProfile(bytes);
      const ref = reference(n, stack, value, lines);
      expect(fold.total).toBe(ref.total);
      for (const [fn, v] of fold.functions)
        expect(v, fn).toEqual({ flat: ref.flat.get(fn) ?? 0n, cum: ref.cum.get(fn)! });
      expect(fold.functions.size).toBe(ref.cum.size);
      sameFold(fold, sliced(bytes));
    }
  });

  it('reports an unknown location id after the switch, and lets a later malformed sample win as the sliced path does', () => {
    const badLocation = (i: number, w: WireWriter) => {
      if (i !== 20000) return false;
      w.bytesField(2, new WireWriter().packed(1, [1, 4242]).packed(2, [5]).bytes());
      return true;
    };
    const unknown = synthetic(30000, digits, () => 1, badLocation);
    const message = errorOf(() => foldProfile(unknown));
    expect(message).toMatch(/sample refers to location id 4242, which is not in the profile \(at byte \d+\)/);
    expect(message).toBe(errorOf(() => foldProfile(unknown, SLICED)));

    const both = synthetic(
      30000,
      digits,
      () => 1,
      (i, w) => {
        if (badLocation(i, w)) return true;
        if (i !== 29000) return false;
        w.bytesField(2, new WireWriter().packed(1, [1]).packed(2, [5, 6]).bytes());
        return true;
      },
    );
    const first = errorOf(() => foldProfile(both));
    expect(first).toMatch(/a sample with 1 values \(one per sample type\), found 2/);
    expect(first).toBe(errorOf(() => foldProfile(both, SLICED)));
  });
});

describe('fold paths: the first unknown location id in file order is reported, whichever mode read it', () => {
  const digits = (i: number) => Array.from({ length: 6 }, (_, k) => 1 + (Math.floor(i / 8 ** k) % 8));
  /** Distinct stacks for the first 12000 samples (table mode, then per sample), repeated ones after (table again). */
  const stack = (i: number) => digits(i < 12000 ? i : i % 12000);
  function profile(bad: ReadonlyMap<number, number>): Uint8Array {
    const w = new WireWriter();
    w.bytesField(1, new WireWriter().varintField(1, 1).varintField(2, 2).bytes());
    for (let i = 0; i < 30000; i++) {
      const locations = bad.has(i) ? [1, bad.get(i)!] : stack(i);
      w.bytesField(2, new WireWriter().packed(1, locations).packed(2, [1]).bytesField(3, LABEL_K_V).bytes());
    }
    for (let f = 1; f <= 8; f++) {
      w.bytesField(
        4,
        new WireWriter().varintField(1, f).bytesField(4, new WireWriter().varintField(1, f).bytes()).bytes(),
      );
      w.bytesField(
        5,
        new WireWriter()
          .varintField(1, f)
          .varintField(2, 2 + f)
          .bytes(),
      );
    }
    STRINGS.forEach((s) => w.string(6, s));
    return w.bytes();
  }

  it.each([
    [
      'table-mode sample first',
      new Map([
        [100, 901],
        [6000, 902],
        [20000, 903],
      ]),
      901,
    ],
    [
      'per-sample-mode sample first',
      new Map([
        [6000, 902],
        [20000, 903],
      ]),
      902,
    ],
    [
      'table-mode sample after a per-sample window',
      new Map([
        [20000, 903],
        [25000, 904],
      ]),
      903,
    ],
  ])('%s', (_, bad, expected) => {
    const bytes = profile(bad);
    const message = errorOf(() => foldProfile(bytes));
    expect(message).toMatch(new RegExp(`location id ${expected}, which is not in the profile`));
    expect(message).toBe(errorOf(() => foldProfile(bytes, SLICED)));
  });
});

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err: unknown) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

/** One packed value field payload holding a signed 64-bit value as its two's complement varint. */
function bigVarint(v: bigint): Uint8Array {
  let u = BigInt.asUintN(64, v);
  const bytes: number[] = [];
  while (u >= 0x80n) {
    bytes.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  bytes.push(Number(u));
  return new Uint8Array(bytes);
}
