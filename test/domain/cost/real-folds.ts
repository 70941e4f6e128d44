import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import type { WindowAttribution } from '../../../src/domain/cost';
import type { Fold } from '../../../src/domain/profile';
import { foldProfile } from '../../../src/domain/profile';

/** The real CPU profiles of test/fixtures/attribute (see its SOURCES.tsv), folded by the profile engine. */
export interface RealFold {
  readonly file: string;
  readonly fold: Fold;
  /** All fixtures are cpu/nanoseconds folds (checked below), so CPU time is the total. */
  readonly cpuNanoseconds: bigint;
}

const DIR = join(__dirname, '../../fixtures/attribute/profiles');

let cache: RealFold[] | null = null;

export function realFolds(): RealFold[] {
  if (cache) return cache;
  const files = readdirSync(DIR, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  cache = files.map((path) => {
    const fold = foldProfile(readFileSync(path));
    if (fold.sampleType.type !== 'cpu' || fold.sampleType.unit !== 'nanoseconds')
      throw new Error(`${path} is not a cpu/nanoseconds fold`);
    return deepFreeze({ file: relative(DIR, path), fold, cpuNanoseconds: fold.total });
  });
  return cache;
}

/** Freezes an object graph (Maps included: their mutators throw), so a test fails if code mutates its input. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      deepFreeze(k);
      deepFreeze(v);
    }
    const fail = () => {
      throw new TypeError('frozen Map mutated');
    };
    Object.assign(value, { set: fail, delete: fail, clear: fail });
  }
  for (const v of Object.values(value as object)) deepFreeze(v);
  return Object.freeze(value);
}

/** Checks every conservation law the attribution promises. */
export function expectConserved(a: WindowAttribution): void {
  const servicesSum = a.services.reduce((s, x) => s + x.microdollars, 0n);
  expect(servicesSum + a.idleMicrodollars).toBe(a.totalMicrodollars);
  const teamsOwn = a.teams.reduce((s, t) => s + t.ownMicrodollars, 0n);
  expect(teamsOwn).toBe(a.totalMicrodollars);
  const roots = a.teams.filter((t) => t.parent === null).reduce((s, t) => s + t.rolledUpMicrodollars, 0n);
  expect(roots).toBe(a.totalMicrodollars);
  for (const s of a.services) {
    const fns = a.functions.filter((f) => f.service === s.service);
    expect(fns.reduce((x, f) => x + f.selfMicrodollars, 0n)).toBe(s.microdollars);
    for (const f of fns) expect(f.cumMicrodollars >= f.selfMicrodollars).toBe(true);
    const keys = new Set(a.labels.filter((l) => l.service === s.service).map((l) => l.key));
    for (const key of keys)
      expect(
        a.labels.filter((l) => l.service === s.service && l.key === key).reduce((x, l) => x + l.microdollars, 0n),
      ).toBe(s.microdollars);
  }
  expect(a.crossServiceFunctions.reduce((s, f) => s + f.selfMicrodollars, 0n)).toBe(servicesSum);
}

/** Splits a real fold into label slices by function name (deterministic), keeping totals exact. */
export function withSyntheticSlices(fold: Fold): Fold {
  const buckets = [{ endpoint: '/a' }, { endpoint: '/b' }, {}] as Record<string, string>[];
  const slices = buckets.map((labels) => ({
    labels,
    total: 0n,
    functions: new Map<string, { flat: bigint; cum: bigint }>(),
  }));
  let i = 0;
  for (const [name, v] of fold.functions) {
    const slice = slices[i++ % 3] as (typeof slices)[number];
    slice.functions.set(name, v);
    slice.total += v.flat;
  }
  const rest = fold.total - slices.reduce((s, x) => s + x.total, 0n);
  (slices[2] as (typeof slices)[number]).total += rest;
  return deepFreeze({ ...fold, slices });
}
