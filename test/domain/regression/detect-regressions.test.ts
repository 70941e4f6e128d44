import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProfileTrees, buildTree, mergeTrees, type StackTree } from '../../../src/domain/profile/tree';
import {
  benjaminiHochbergAdjust,
  detectRegressions,
  erfc,
  holmAdjust,
  regressionFingerprint,
  twoProportionZ,
} from '../../../src/domain/regression';

const DIR = path.join(__dirname, '..', '..', 'fixtures', 'regressions');
const cache = new Map<string, StackTree>();
function tree(name: string): StackTree {
  let t = cache.get(name);
  if (!t) cache.set(name, (t = buildTree(readFileSync(path.join(DIR, `${name}.pb.gz`)))!));
  return t;
}

describe('detectRegressions on real pairs (test/fixtures/regressions)', () => {
  it.each([
    ['v2-regex', 'main.validateEmail'],
    ['v2-quadratic', 'main.dedupeTags'],
  ])('v1 against %s reports the regressed function first, and only it', (current, fn) => {
    const report = detectRegressions({ tree: tree('v1-a') }, { tree: tree(current) });
    expect(report.findings[0]?.function).toBe(fn);
    expect(report.findings[0]?.kind).toBe('cum');
    expect(report.findings[0]!.pValue).toBeLessThan(1e-3);
    expect(report.findings[0]!.currentShare).toBeGreaterThan(report.findings[0]!.baseShare * 2);
    expect(report.findings.map((f) => f.function)).toEqual([fn]);
  });

  it.each([
    ['v1-a', 'v1-b'],
    ['v1-a', 'v1-2x'],
    ['v1-b', 'v1-2x'],
    ['v1-a', 'v1-a'],
  ])('null pair %s against %s (another run, twice the traffic, itself) reports nothing', (base, current) => {
    expect(detectRegressions({ tree: tree(base) }, { tree: tree(current) }).findings).toEqual([]);
  });

  it('traffic growth alone (every stack doubled) reports nothing, and the same samples compare equal', () => {
    const v1 = tree('v1-a');
    expect(detectRegressions({ tree: v1 }, { tree: mergeTrees([v1, v1, v1]) }).findings).toEqual([]);
  });

  it('without Go-specific help: no artifact filter still reports the regression first', () => {
    const report = detectRegressions(
      { tree: tree('v1-a') },
      { tree: tree('v2-quadratic') },
      { ignoreFunction: () => false },
    );
    expect(report.findings[0]?.function).toBe('main.dedupeTags');
  });

  it('the delta is the current value minus the base share of the current total, exactly', () => {
    const f = detectRegressions({ tree: tree('v1-a') }, { tree: tree('v2-quadratic') }).findings[0]!;
    // Totals are the service's CPU without the runtime's housekeeping (isProfilerArtifact).
    expect(f.currentTotal).toBeLessThan(tree('v2-quadratic').value);
    expect(f.valueDelta).toBe(f.currentValue - (f.baseValue * f.currentTotal) / f.baseTotal);
    expect(f.topCallers[0]?.function).toBe('main.handle.func1');
  });

  it('per request: the same per-request work reports nothing, a slower function per request is reported', () => {
    expect(
      detectRegressions({ tree: tree('v1-a'), requests: 500_000 }, { tree: tree('v1-2x'), requests: 1_000_000 })
        .findings,
    ).toEqual([]);
    const r = detectRegressions(
      { tree: tree('v1-a'), requests: 500_000 },
      { tree: tree('v2-regex'), requests: 500_000 },
    );
    expect(r.findings[0]?.function).toBe('main.validateEmail');
  });

  it('a price turns the delta into money a year and the impact threshold filters on it', () => {
    // 0.05 $ per core-hour = 50_000 micro-dollars per 3.6e12 ns; the profile stands for a 1 h window.
    const price = {
      microsPerValue: { numerator: 50_000n, denominator: 3_600_000_000_000n },
      windowNanoseconds: 3_600_000_000_000n,
    };
    const found = detectRegressions({ tree: tree('v1-a') }, { tree: tree('v2-regex') }, { price }).findings[0]!;
    expect(found.impactPerYearMicros).toBe((found.valueDelta * 50_000n * 8760n) / 3_600_000_000_000n);
    const none = detectRegressions(
      { tree: tree('v1-a') },
      { tree: tree('v2-regex') },
      { price, minImpactPerYearMicros: found.impactPerYearMicros! + 1n },
    );
    expect(none.findings).toEqual([]);
  });

  it('two values of the version label compare like two windows (samples outside pprof.Do carry no version)', () => {
    const split = (name: string) =>
      buildProfileTrees(readFileSync(path.join(DIR, `${name}.pb.gz`)), { splitLabel: 'version' })!;
    const v1 = split('v1-a').byLabel.get('v1')!;
    const v2 = split('v2-regex');
    expect([...v2.byLabel.keys()]).toEqual(['v2']);
    expect(v2.byLabel.get('v2')!.value).toBeLessThan(v2.tree.value);
    expect(detectRegressions({ tree: v1 }, { tree: v2.byLabel.get('v2')! }).findings.map((f) => f.function)).toEqual([
      'main.validateEmail',
    ]);
  });
});

describe('statistics', () => {
  it('erfc matches known values', () => {
    expect(erfc(0)).toBeCloseTo(1, 6);
    expect(erfc(1)).toBeCloseTo(0.157299207, 6);
    expect(erfc(3) / 2.209049699858544e-5).toBeCloseTo(1, 5);
  });

  it('two-proportion z: equal proportions give 0, the textbook example gives its z', () => {
    expect(twoProportionZ(10, 100, 20, 200)).toBe(0);
    // 45/100 vs 60/100: pooled 0.525, se = sqrt(0.525*0.475*0.02) = 0.070622; z = 0.15 / se.
    expect(twoProportionZ(45, 100, 60, 100)).toBeCloseTo(2.12398, 4);
  });

  it('Holm and Benjamini-Hochberg adjust as published', () => {
    expect(holmAdjust([0.01, 0.04, 0.03, 0.005])).toEqual([0.03, 0.06, 0.06, 0.02]);
    const bh = benjaminiHochbergAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(bh.map((p) => Number(p.toFixed(6)))).toEqual([0.02, 0.04, 0.04, 0.02]);
  });

  it('the fingerprint is stable and separates its parts', () => {
    expect(regressionFingerprint('checkout', 'main.f', 'cpu/nanoseconds', 'cum')).toBe(
      regressionFingerprint('checkout', 'main.f', 'cpu/nanoseconds', 'cum'),
    );
    expect(regressionFingerprint('checkout', 'main.f', 'cpu/nanoseconds', 'cum')).not.toBe(
      regressionFingerprint('checkout', 'main.f', 'cpu/nanoseconds', 'flat'),
    );
    expect(regressionFingerprint('a', 'b\u0000c', 'x', 'cum')).not.toBe(
      regressionFingerprint('a\u0000b', 'c', 'x', 'cum'),
    );
    expect(regressionFingerprint('checkout', 'main.f', 'cpu/nanoseconds', 'cum')).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('precision and recall over every pair of the fixtures', () => {
  const baselines = ['v1-a', 'v1-b', 'v1-c'];
  const regressed: Record<string, string> = {
    'v2-regex': 'main.validateEmail',
    'v2-regex-b': 'main.validateEmail',
    'v2-quadratic': 'main.dedupeTags',
    'v2-quadratic-b': 'main.dedupeTags',
    'v2-small': 'main.checksum',
  };
  const nulls = ['v1-a', 'v1-b', 'v1-c', 'v1-2x'];

  it('reports every regex and quadratic regression first, nothing else, and nothing on any null pair', () => {
    let truePositives = 0;
    let falsePositives = 0;
    let detected = 0;
    let firsts = 0;
    for (const base of baselines) {
      for (const [current, fn] of Object.entries(regressed)) {
        const found = detectRegressions({ tree: tree(base) }, { tree: tree(current) }).findings;
        const hit = found.some((f) => f.function === fn);
        if (hit) detected++;
        if (found[0]?.function === fn) firsts++;
        truePositives += found.filter((f) => f.function === fn).length;
        falsePositives += found.filter((f) => f.function !== fn).length;
        if (!current.startsWith('v2-small'))
          expect(
            found.map((f) => f.function),
            `${base} vs ${current}`,
          ).toEqual([fn]);
      }
    }
    let nullFindings = 0;
    for (const a of nulls)
      for (const b of nulls)
        if (a !== b) nullFindings += detectRegressions({ tree: tree(a) }, { tree: tree(b) }).findings.length;
    falsePositives += nullFindings;
    const pairs = baselines.length * Object.keys(regressed).length;
    console.log(
      `regression pairs ${pairs}: detected ${detected}, first ${firsts}; findings true ${truePositives}, false ${falsePositives} (null pairs ${nulls.length * (nulls.length - 1)}: ${nullFindings} findings)`,
    );
    expect(nullFindings).toBe(0);
    expect(falsePositives).toBe(0);
    expect(detected).toBeGreaterThanOrEqual(12);
  });
});
