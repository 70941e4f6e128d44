import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
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
    if (fold.sampleType.type !== 'cpu' || fold.sampleType.unit !== 'nanoseconds') throw new Error(`${path} is not a cpu/nanoseconds fold`);
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
