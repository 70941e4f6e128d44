/** current − previous in micro-units, and in percent (two decimals as a string; null when previous is 0). */
export interface Change {
  readonly amount: bigint;
  readonly percent: string | null;
}
