import { floor, fractionalPart, compare, type Rational } from '../../../../src/domain/cost/rational';

/** A share to receive part of an integer amount. */
export interface Claim<K extends string = string> {
  /** Tie-breaking key: equal remainders go to the smaller key first, so results are deterministic. */
  readonly key: K;
  readonly weight: bigint;
}

/**
 * Splits the integer `total` in proportion to non-negative `weights` so the parts sum to `total`
 * exactly: each gets floor(total × w / W), and the units left over go one each to the largest
 * remainders (ties: smaller key). With all weights zero everything stays unassigned — the caller
 * must give such an amount a named line. Returns a map key → amount.
 */
export function splitByWeight<K extends string>(total: bigint, claims: readonly Claim<K>[]): Map<K, bigint> {
  const weightSum = claims.reduce((s, c) => s + c.weight, 0n);
  if (weightSum === 0n) {
    if (total !== 0n) throw new RangeError(`cannot split ${total} over zero weights`);
    return new Map(claims.map((c) => [c.key, 0n]));
  }
  // Same denominator for every share, so remainders compare as plain bigints (no rationals needed:
  // this runs once per function per service per window).
  const out = new Map<K, bigint>();
  const remainders: { key: K; rem: bigint }[] = [];
  let assigned = 0n;
  for (const c of claims) {
    const scaled = total * c.weight;
    const base = scaled / weightSum;
    out.set(c.key, base);
    assigned += base;
    remainders.push({ key: c.key, rem: scaled % weightSum });
  }
  giveLeftover(
    out,
    total - assigned,
    remainders.sort((a, b) => (a.rem === b.rem ? byKey(a.key, b.key) : a.rem > b.rem ? -1 : 1)),
  );
  return out;
}

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function giveLeftover<K extends string>(out: Map<K, bigint>, leftover: bigint, order: readonly { key: K }[]): void {
  if (leftover < 0n || leftover > BigInt(order.length)) {
    throw new RangeError(`leftover ${leftover} outside [0, ${order.length}]: the total is not a rounding of the parts`);
  }
  for (let i = 0; i < Number(leftover); i++) {
    const key = (order[i] as { key: K }).key;
    out.set(key, (out.get(key) as bigint) + 1n);
  }
}

/**
 * Gives each exact rational its floor, then the `total − Σ floors` leftover units one each to the
 * largest fractional parts (ties: smaller key). `total` must lie within [Σ floors, Σ floors + n]
 * — true when it is a rounding of the exact sum. Returns a map key → amount.
 */
export function distributeRationals<K extends string>(
  total: bigint,
  exact: readonly { key: K; value: Rational }[],
): Map<K, bigint> {
  const out = new Map<K, bigint>();
  let assigned = 0n;
  for (const e of exact) {
    const base = floor(e.value);
    out.set(e.key, base);
    assigned += base;
  }
  const order = exact
    .map((e) => ({ key: e.key, frac: fractionalPart(e.value) }))
    .sort((a, b) => compare(b.frac, a.frac) || byKey(a.key, b.key));
  giveLeftover(out, total - assigned, order);
  return out;
}
