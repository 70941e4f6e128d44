import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { foldProfile, sniffFormat, type Fold } from '../../../../src/domain/profile';
import { decodeJfrLabels } from '../../../../src/domain/profile/jfr/jfr-labels';
import { foldJfr } from '../../../../src/domain/profile/jfr/jfr.decoder';

const FIXTURES = resolve(__dirname, '../../../fixtures/jfr');
const gz = (name: string): Buffer => readFileSync(join(FIXTURES, name));
const raw = (name: string): Buffer => gunzipSync(gz(name));

/**
 * Totals per label set (restricted to `keys`, as JSON of sorted pairs) of the samples in grafana/jfr-parser's expected
 * pprof text: a sample line `value: locations`, then optionally one line of `key:[value]` pairs.
 */
function expectedLabelTotals(name: string, keys: readonly string[]): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  let pending: bigint | null = null;
  const flush = (labels: Record<string, string>): void => {
    if (pending === null) return;
    const key = JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => keys.includes(k))
        .sort(),
    );
    totals.set(key, (totals.get(key) ?? 0n) + pending);
    pending = null;
  };
  for (const line of gunzipSync(gz(name)).toString('utf8').split('\n')) {
    const sample = /^\s+(\d+): [\d ]*$/.exec(line);
    if (sample) {
      flush({});
      pending = BigInt(sample[1]!);
    } else if (/^\s+\w+:\[/.test(line)) {
      flush(Object.fromEntries([...line.matchAll(/(\w+):\[([^\]]*)\]/g)].map((m) => [m[1]!, m[2]!])));
    } else flush({});
  }
  return totals;
}

const sliceTotals = (fold: Fold): Map<string, bigint> =>
  new Map(fold.slices!.map((s) => [JSON.stringify(Object.entries(s.labels).sort()), s.total]));

describe('JFR fold', () => {
  it('sniffs JFR, gzipped or not, and folds both the same', () => {
    expect(sniffFormat(raw('dump1.jfr.gz'))).toBe('jfr');
    const a = foldProfile(gz('dump1.jfr.gz'));
    const b = foldProfile(raw('dump1.jfr.gz'));
    expect(a.format).toBe('jfr');
    expect(a.sampleType).toEqual({ type: 'cpu', unit: 'nanoseconds' });
    expect(a.periodType).toEqual({ type: 'cpu', unit: 'nanoseconds' });
    expect(a.period).toBe(10_000_000n);
    expect(b.functions).toEqual(a.functions);
    expect(a.total).toBeGreaterThan(0n);
  });

  it('reads a recording of several chunks: two recordings concatenated fold to the sum of each', () => {
    const one = raw('dump1.jfr.gz');
    const two = raw('example.jfr.gz');
    const both = foldProfile(Buffer.concat([one, two]));
    const a = foldProfile(one);
    const b = foldProfile(two);
    expect(both.total).toBe(a.total + b.total);
    for (const name of new Set([...a.functions.keys(), ...b.functions.keys()])) {
      const fa = a.functions.get(name) ?? { flat: 0n, cum: 0n };
      const fb = b.functions.get(name) ?? { flat: 0n, cum: 0n };
      expect(both.functions.get(name), name).toEqual({ flat: fa.flat + fb.flat, cum: fa.cum + fb.cum });
    }
    expect(both.sampleTypes.map((t) => t.type)).toEqual(b.sampleTypes.map((t) => t.type));
  });

  it("values one CPU sample at 1e9 / sampleRate ns, as Pyroscope does with the agent's sampleRate", () => {
    const at100 = foldProfile(gz('example.jfr.gz'));
    const at1000 = foldProfile(gz('example.jfr.gz'), { sampleRate: 1000 });
    expect(at1000.total * 10n).toBe(at100.total);
    expect(at1000.period).toBe(1_000_000n);
  });

  it('lists every sample type of the recording and folds the one asked for', () => {
    const fold = foldProfile(gz('example.jfr.gz'), { sampleType: 'alloc_in_new_tlab_bytes/bytes' });
    expect(fold.sampleTypes.map((t) => `${t.type}/${t.unit}`)).toEqual([
      'cpu/nanoseconds',
      'alloc_in_new_tlab_objects/count',
      'alloc_in_new_tlab_bytes/bytes',
      'alloc_outside_tlab_objects/count',
      'alloc_outside_tlab_bytes/bytes',
      'mutex_contentions/count',
      'mutex_delay/nanoseconds',
    ]);
    expect(fold.sampleType).toEqual({ type: 'alloc_in_new_tlab_bytes', unit: 'bytes' });
    expect(() => foldProfile(gz('example.jfr.gz'), { sampleType: 'inuse_space' })).toThrow(
      /sample type "inuse_space" is not in the recording/,
    );
  });

  it("slices by the agent's context labels exactly as grafana/jfr-parser labels the samples", () => {
    const labels = decodeJfrLabels(raw('dump1.labels.pb.gz'));
    const fold = foldJfr(raw('dump1.jfr.gz'), { labels, labelKeys: ['thread_name', 'endpoint'] });
    const actual = sliceTotals(fold);
    expect(actual).toEqual(
      expectedLabelTotals('dump1_0_process_cpu_cpu__nanoseconds_expected.txt.gz', ['thread_name']),
    );
    expect(actual.size).toBe(5);
    expect(fold.slices!.reduce((sum, s) => sum + s.total, 0n)).toBe(fold.total);
    expect(fold.droppedLabelKeys).toEqual([]);
  });

  it("slices by the application's own labels, span names and profile ids (a recording with spans)", () => {
    const labels = decodeJfrLabels(raw('new_spancontext.labels.gz'));
    const keys = ['dyn1', 'dyn2', 'span_name', 'profile_id'];
    const fold = foldJfr(raw('new_spancontext.jfr.gz'), { labels, labelKeys: keys });
    const expected = expectedLabelTotals('new_spancontext_0_process_cpu_cpu__nanoseconds_expected.txt.gz', keys);
    expect(sliceTotals(fold)).toEqual(expected);
    expect(expected.size).toBeGreaterThanOrEqual(3);
    const byDyn1 = foldJfr(raw('new_spancontext.jfr.gz'), { labels, labelKeys: ['dyn1'] });
    expect(byDyn1.slices!.map((s) => [s.labels, s.total])).toEqual([
      [{}, 2_370_000_000n],
      [{ dyn1: 'v1' }, 2_350_000_000n],
    ]);
  });

  it('drops a label key over the cardinality limit and keeps the totals', () => {
    const labels = decodeJfrLabels(raw('dump1.labels.pb.gz'));
    const fold = foldJfr(raw('dump1.jfr.gz'), { labels, labelKeys: ['thread_name'], maxLabelValues: 2 });
    expect(fold.droppedLabelKeys).toEqual(['thread_name']);
    expect(fold.slices).toEqual([{ labels: {}, total: fold.total, functions: fold.functions }]);
  });

  it('reads a gzipped recording through the bounded gunzip', () => {
    const bytes = gzipSync(raw('wall_tick_sample.jfr.gz'));
    expect(() => foldProfile(bytes, { maxInflatedBytes: 1000 })).toThrow(
      /inflated size exceeds the limit of 1000 bytes/,
    );
  });
});
