import { compareStrings } from './fold-accumulator';
import type { Fold } from './profile.types';

/** One row of a top listing. */
export interface TopRow {
  readonly name: string;
  readonly flat: bigint;
  readonly cum: bigint;
}

/**
 * Functions of a fold sorted as `flamebill top` prints them: flat descending, then cum descending, then name
 * ascending (code-unit order), so the order is deterministic.
 */
export function topFunctions(fold: Fold): TopRow[] {
  const rows = [...fold.functions].map(([name, v]) => ({ name, flat: v.flat, cum: v.cum }));
  return rows.sort((a, b) =>
    a.flat !== b.flat
      ? a.flat > b.flat
        ? -1
        : 1
      : a.cum !== b.cum
        ? a.cum > b.cum
          ? -1
          : 1
        : compareStrings(a.name, b.name),
  );
}
