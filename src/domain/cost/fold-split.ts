import type { Fold } from '../profile/profile.types';
import { NO_FRAMES, NO_LABEL } from './attribution.types';
import { splitByWeight, type Claim } from './largest-remainder';
import { rational, roundHalfUp } from './rational';

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

/**
 * One part's (or service's) money per function as parallel arrays: line i is `names[i]` with `self[i]` and
 * `cum[i]`. No object per line: a window at scale has millions of lines.
 */
export interface FunctionLines {
  readonly names: readonly string[];
  readonly self: readonly bigint[];
  readonly cum: readonly bigint[];
}

/**
 * `splitByFunction` as parallel arrays (same lines, same amounts, in the fold's function order then
 * `__no_frames__`). The common case runs without a Map or an object per function and without sorting every
 * remainder: the leftover units go to the remainders above the leftover-th largest (found by a native numeric
 * sort of the remainders), then to the equal ones by key, which is exactly the largest-remainder order
 * (remainder descending, key ascending). Needs Σ flat ≤ 2^53 so remainders are exact doubles; other folds (and
 * the edge cases of an empty fold or a function named `__no_frames__`) take `splitByFunction` itself.
 */
export function splitFoldByFunction(fold: Fold, amount: bigint): FunctionLines {
  const count = fold.functions.size;
  const names: string[] = new Array<string>(count);
  const flats: bigint[] = new Array<bigint>(count);
  const cums: bigint[] = new Array<bigint>(count);
  let flatSum = 0n;
  let i = 0;
  for (const [name, value] of fold.functions) {
    if (value.flat < 0n || value.cum < 0n)
      throw new RangeError(`function "${name}" has a negative value: cannot cost a diff profile`);
    flatSum += value.flat;
    names[i] = name;
    flats[i] = value.flat;
    cums[i] = value.cum;
    i++;
  }
  if (flatSum > fold.total) throw new RangeError(`flat values sum to ${flatSum}, past the fold total ${fold.total}`);
  if (fold.total === 0n || fold.total > MAX_EXACT || fold.functions.has(NO_FRAMES))
    return linesOf(splitByFunction(fold, amount));
  const noFrames = fold.total - flatSum;
  // Claims: the functions with flat > 0, then the frameless remainder; weights sum to the fold total.
  const selfs = largestRemainder(amount, flats, noFrames, fold.total, names);
  const outNames: string[] = [];
  const outSelf: bigint[] = [];
  const outCum: bigint[] = [];
  const twiceAmount = 2n * amount;
  const twiceTotal = 2n * fold.total;
  for (let j = 0; j < count; j++) {
    const own = selfs[j] as bigint;
    // Inclusive is never below self in the profile; the self split's largest-remainder unit must not invert that.
    const rounded = (twiceAmount * (cums[j] as bigint) + fold.total) / twiceTotal;
    const cum = rounded > own ? rounded : own;
    if (cum === 0n) continue; // nothing paid for: no line
    outNames.push(names[j] as string);
    outSelf.push(own);
    outCum.push(cum);
  }
  const orphan = selfs[count] as bigint;
  if (orphan > 0n) {
    outNames.push(NO_FRAMES);
    outSelf.push(orphan);
    outCum.push(orphan);
  }
  return { names: outNames, self: outSelf, cum: outCum };
}

/** Largest double that holds every smaller integer exactly. */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Largest-remainder split of `amount` over `flats` (zero weights get nothing) plus one extra claim of weight
 * `extra` keyed `__no_frames__` (index `flats.length`), the weights summing to `weightSum` ≤ 2^53. Same result
 * as `splitByWeight` over the same claims.
 */
function largestRemainder(
  amount: bigint,
  flats: readonly bigint[],
  extra: bigint,
  weightSum: bigint,
  names: readonly string[],
): bigint[] {
  const n = flats.length;
  const out: bigint[] = new Array<bigint>(n + 1);
  const rems = new Float64Array(n + 1).fill(-1); // -1: not a claim (zero weight), never receives a unit
  let assigned = 0n;
  let claims = 0;
  for (let j = 0; j <= n; j++) {
    const weight = j < n ? (flats[j] as bigint) : extra;
    if (weight === 0n) {
      out[j] = 0n;
      continue;
    }
    const scaled = amount * weight;
    const base = scaled / weightSum;
    out[j] = base;
    assigned += base;
    rems[j] = Number(scaled - base * weightSum);
    claims++;
  }
  const leftover = amount - assigned;
  if (leftover < 0n || leftover > BigInt(claims))
    throw new RangeError(`leftover ${leftover} outside [0, ${claims}]: the total is not a rounding of the parts`);
  const units = Number(leftover);
  if (units === 0) return out;
  const sorted = rems.slice().sort(); // ascending, native numeric sort
  const threshold = sorted[sorted.length - units] as number;
  const ties: number[] = [];
  let given = 0;
  for (let j = 0; j <= n; j++) {
    const rem = rems[j] as number;
    if (rem > threshold) {
      out[j] = (out[j] as bigint) + 1n;
      given++;
    } else if (rem === threshold) ties.push(j);
  }
  // Equal remainders: smaller key first, as splitByWeight orders them.
  const keyOf = (j: number) => (j < n ? (names[j] as string) : NO_FRAMES);
  ties.sort((a, b) => compareStrings(keyOf(a), keyOf(b)));
  for (let k = 0; k < units - given; k++) {
    const j = ties[k] as number;
    out[j] = (out[j] as bigint) + 1n;
  }
  return out;
}

function linesOf(split: ReadonlyMap<string, FunctionShare>): FunctionLines {
  const names: string[] = [];
  const self: bigint[] = [];
  const cum: bigint[] = [];
  for (const [name, share] of split) {
    names.push(name);
    self.push(share.self);
    cum.push(share.cum);
  }
  return { names, self, cum };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
