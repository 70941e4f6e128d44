import type { Fold } from '../../../../src/domain/profile/profile.types';
import { NO_FRAMES, NO_LABEL } from '../../../../src/domain/cost/attribution.types';
import { splitByWeight, type Claim } from './largest-remainder';
import { rational, roundHalfUp } from '../../../../src/domain/cost/rational';

/** A function's share of one part's money. */
export interface FunctionShare {
  readonly self: bigint;
  readonly cum: bigint;
}

/**
 * Splits `amount` (a part's integer cost) over the fold's functions by flat value, exactly (Σ self =
 * amount; samples without frames go to `__no_frames__`), and gives each function
 * round(amount × cum / total) as its inclusive cost (raised to its self cost where the self split's
 * extra remainder unit would put self above inclusive). Rejects folds with negative values or flat
 * values summing past the total: such a fold is a diff or corrupt, not a cost basis.
 */
export function splitByFunction(fold: Fold, amount: bigint): Map<string, FunctionShare> {
  const claims: Claim[] = [];
  let flatSum = 0n;
  for (const [name, value] of fold.functions) {
    if (value.flat < 0n || value.cum < 0n)
      throw new RangeError(`function "${name}" has a negative value: cannot cost a diff profile`);
    flatSum += value.flat;
    if (value.flat > 0n) claims.push({ key: name, weight: value.flat });
  }
  if (flatSum > fold.total) throw new RangeError(`flat values sum to ${flatSum}, past the fold total ${fold.total}`);
  const noFrames = fold.total - flatSum;
  if (noFrames > 0n || fold.total === 0n) claims.push({ key: NO_FRAMES, weight: fold.total === 0n ? 1n : noFrames });
  const self = splitByWeight(amount, claims);
  const out = new Map<string, FunctionShare>();
  for (const [name, value] of fold.functions) {
    const own = self.get(name) ?? 0n;
    // Inclusive is never below self in the profile; the self split's largest-remainder unit must not invert that.
    const cum = fold.total === 0n ? own : maxOf(own, roundHalfUp(rational(amount * value.cum, fold.total)));
    if (cum === 0n) continue; // nothing paid for: no line
    out.set(name, { self: own, cum });
  }
  const orphan = self.get(NO_FRAMES);
  if (orphan !== undefined && orphan > 0n) out.set(NO_FRAMES, { self: orphan, cum: orphan });
  return out;
}

/**
 * Splits `amount` over the values of label `key` by the fold's label slices (exactly; samples
 * without the key, and folds without slices, go to `__none__`).
 */
export function splitByLabel(fold: Fold, key: string, amount: bigint): Map<string, bigint> {
  const weights = new Map<string, bigint>();
  for (const slice of fold.slices ?? []) {
    const value = slice.labels[key] ?? NO_LABEL;
    weights.set(value, (weights.get(value) ?? 0n) + slice.total);
  }
  const claims = [...weights].filter(([, w]) => w > 0n).map(([value, weight]) => ({ key: value, weight }));
  if (claims.length === 0) return new Map([[NO_LABEL, amount]]);
  return splitByWeight(amount, claims);
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
