import { expect } from 'vitest';
import { foldProfile, ProfileDecodeError, type Fold } from '../../../src/domain/profile';

/** Seeded PRNG (mulberry32), so every run tries the same inputs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Folds or throws ProfileDecodeError; any other outcome (TypeError, RangeError, nonsense totals) fails the test. */
export function foldOrDecodeError(bytes: Uint8Array, what: string): 'fold' | 'error' {
  let fold: Fold;
  try {
    fold = foldProfile(bytes);
  } catch (err: unknown) {
    if (!(err instanceof ProfileDecodeError))
      throw new Error(`${what}: expected a ProfileDecodeError, got ${String(err)}`);
    expect(err.message.length, what).toBeGreaterThan(10);
    return 'error';
  }
  let flat = 0n;
  for (const v of fold.functions.values()) flat += v.flat < 0n ? -v.flat : v.flat;
  expect(flat <= (fold.absoluteTotal ?? fold.total), `${what}: flat exceeds the total`).toBe(true);
  return 'fold';
}

/** The ProfileDecodeError folding `bytes` throws; fails when it folds or throws anything else. */
export function decodeError(bytes: Uint8Array): ProfileDecodeError {
  try {
    foldProfile(bytes);
  } catch (err: unknown) {
    if (err instanceof ProfileDecodeError) return err;
    throw err;
  }
  throw new Error('expected a ProfileDecodeError');
}
