import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCatalog, type Catalog } from '../../../src/domain/catalog';
import {
  attributeWindow,
  attributeWindowSplits,
  priceSettingsSchema,
  type AttributionInput,
  type ServiceWindowInput,
} from '../../../src/domain/cost';
import type { Fold, FunctionValue } from '../../../src/domain/profile';
import { deepFreeze, realFolds, withSyntheticSlices } from './real-folds';
import { attributeWindow as referenceAttributeWindow } from './reference/attribution';

/**
 * The optimized attribution against the implementation it replaced (test/domain/cost/reference, verbatim): deep-equal
 * results on real folds and on synthetic folds built to hit the fast path's edges — equal remainders decided by
 * name, weights past 2^53 (exact-double limit), zero flats, frameless samples, a function literally named
 * `__no_frames__`, empty folds, several profiles per service.
 */
const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 2);

const catalog: Catalog = (() => {
  const text = [
    'kind: Group\nmetadata: { name: org }\nspec: { type: org }\n',
    'kind: Group\nmetadata: { name: payments }\nspec: { type: team, parent: org }\n',
    'kind: Component\nmetadata: { name: s0 }\nspec: { owner: payments }\n',
    'kind: Component\nmetadata: { name: s1 }\nspec: { owner: org }\n',
  ].join('---\n');
  const r = parseCatalog([{ path: 'c.yaml', text }]);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return deepFreeze(r.catalog);
})();

const functionArb = fc.record({
  name: fc.constantFrom('a', 'b', 'c', 'main.f', 'runtime.g', 'z', '__no_frames__', 'ü', 'B'),
  flat: fc.oneof(
    fc.constantFrom(0n, 1n, 7n, 1_000n),
    fc.bigInt({ min: 0n, max: 10n ** 12n }),
    fc.bigInt({ min: 0n, max: 2n ** 60n }),
  ),
  extraCum: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 10n ** 12n })),
});

/** A fold of random functions; `frameless` adds samples without frames (total above Σ flat). */
const foldArb = fc
  .record({
    functions: fc.array(functionArb, { maxLength: 12 }),
    frameless: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 10n ** 13n })),
    sliced: fc.boolean(),
  })
  .map(({ functions, frameless, sliced }) => {
    const fns = new Map<string, FunctionValue>();
    for (const f of functions) fns.set(f.name, { flat: f.flat, cum: f.flat + f.extraCum });
    let total = frameless;
    for (const v of fns.values()) total += v.flat;
    for (const [name, v] of fns) if (v.cum > total) fns.set(name, { flat: v.flat, cum: total });
    const fold: Fold = {
      format: 'pprof',
      sampleType: { type: 'cpu', unit: 'nanoseconds' },
      sampleTypes: [{ type: 'cpu', unit: 'nanoseconds' }],
      periodType: null,
      period: 0n,
      timeNanos: 0n,
      durationNanos: 0n,
      sampleCount: fns.size,
      total,
      functions: fns,
    };
    return sliced ? withSyntheticSlices(fold) : deepFreeze(fold);
  });

const partArb = fc.record({
  service: fc.constantFrom('s0', 's1', 'other'),
  fold: fc.oneof(
    foldArb,
    fc.integer({ min: 0, max: realFolds().length - 1 }).map((i) => realFolds()[i]!.fold),
  ),
  cpu: fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 13n }), fc.bigInt({ min: 0n, max: 10n ** 17n })),
  source: fc.constantFrom('m', 'a'),
});

const settings = deepFreeze({
  ...priceSettingsSchema.parse({
    prices: [
      { costPerCoreHour: '0.0316', effectiveFrom: '2026-01-01' },
      { costPerCoreHour: '1.7', effectiveFrom: '2026-01-01', scope: { service: 's1' } },
    ],
    cost: {
      default: { mode: 'measured', samplingFraction: 0.3 },
      sources: { a: { mode: 'allocated', fleetCores: 2.5 } },
    },
  }),
});

function inputOf(parts: readonly { service: string; fold: Fold; cpu: bigint; source: string }[]): AttributionInput {
  const services: ServiceWindowInput[] = parts.map((p, i) => ({
    serviceName: p.service,
    fold: p.fold,
    cpuNanoseconds: p.cpu,
    source: p.source,
    profileDigest: `d${i}`,
  }));
  return deepFreeze({
    window: { startMs: START, endMs: START + HOUR },
    services,
    catalog,
    catalogRevision: 'r',
    settings,
    labelKeys: ['endpoint'],
  });
}

describe('optimized attribution against the reference implementation', () => {
  it('gives deep-equal results on random real and synthetic folds', () => {
    fc.assert(
      fc.property(fc.array(partArb, { maxLength: 6 }), (parts) => {
        const input = inputOf(parts);
        let expected: unknown;
        try {
          expected = referenceAttributeWindow(input);
        } catch (err) {
          expect(() => attributeWindow(input)).toThrow((err as Error).message);
          return;
        }
        expect(attributeWindow(input)).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('attributeWindowSplits holds, per service, exactly the function lines attributeWindow lists', () => {
    fc.assert(
      fc.property(fc.array(partArb, { minLength: 1, maxLength: 6 }), (parts) => {
        const input = inputOf(parts);
        let full;
        try {
          full = attributeWindow(input);
        } catch {
          return;
        }
        const compact = attributeWindowSplits(input);
        const { functions, crossServiceFunctions, ...rest } = full;
        expect(crossServiceFunctions.length).toBeLessThanOrEqual(functions.length);
        const { functionSplits, ...compactRest } = compact;
        expect(compactRest).toEqual(rest);
        expect(functionSplits.map((s) => s.service)).toEqual([...full.services.map((s) => s.service)].sort());
        const fromSplits = functionSplits
          .flatMap((s) => s.names.map((name, i) => `${s.service}\u0000${name}\u0000${s.self[i]}\u0000${s.cum[i]}`))
          .sort();
        expect(fromSplits).toEqual(
          functions
            .map((f) => `${f.service}\u0000${f.function}\u0000${f.selfMicrodollars}\u0000${f.cumMicrodollars}`)
            .sort(),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('gives deep-equal results on the real folds, each as its own service, with ties broken by name', () => {
    const parts = realFolds().map((r, i) => ({
      service: `svc-${i % 5}`,
      fold: r.fold,
      cpu: r.cpuNanoseconds * 1_000n,
      source: i % 3 === 0 ? 'a' : 'm',
    }));
    const input = inputOf(parts);
    expect(attributeWindow(input)).toEqual(referenceAttributeWindow(input));
  });
});
