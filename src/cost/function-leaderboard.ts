/**
 * Which lines can be in a function leaderboard's top N, decided from the first lines of each day's board list
 * (`cost_function_day_tops`) without summing every (service, function) of the period. It is the "no random access"
 * top-k algorithm of Fagin, Lotem and Naor (2003): a line seen on some days has a known lower bound (its amounts on
 * those days); on a day where it was not seen it can have at most the amount of the last line read there (0 when
 * that day's list was read to its end). The lines whose upper bound reaches the N-th best lower bound are the
 * finalists; the caller sums their exact amounts and ranks them. When the lists read cannot tell yet, the answer
 * is null and the caller reads deeper (or, past the stored lists, sums the whole period).
 */

/** One line of a day's list: its key and its amount in the board's column. */
export interface ListLine {
  readonly key: string;
  readonly amount: bigint;
}

/** The first lines of one day's list, in list order; `complete` when they are every line of that day. */
export interface DayList {
  readonly lines: readonly ListLine[];
  readonly complete: boolean;
}

/**
 * The keys that can rank among the first `limit` lines of the period (the sum over `lists`' days), or null when the
 * lists do not tell. Every line of the true top `limit` is among them; they may be more than `limit`.
 */
export function finalists(lists: readonly DayList[], limit: number): string[] | null {
  let threshold = 0n; // the most an unseen line can have over the period
  const floors: bigint[] = [];
  for (const list of lists) {
    const floor =
      list.complete || list.lines.length === 0 ? 0n : (list.lines[list.lines.length - 1] as ListLine).amount;
    floors.push(floor);
    threshold += floor;
  }
  const seen = new Map<string, { lower: bigint; seenFloors: bigint }>();
  lists.forEach((list, d) => {
    for (const line of list.lines) {
      const s = seen.get(line.key);
      if (s) {
        s.lower += line.amount;
        s.seenFloors += floors[d] as bigint;
      } else seen.set(line.key, { lower: line.amount, seenFloors: floors[d] as bigint });
    }
  });
  const allComplete = lists.every((l) => l.complete);
  if (seen.size < limit) return allComplete ? [...seen.keys()] : null;
  const lowers = [...seen.values()].map((s) => s.lower).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  const nth = lowers[limit - 1] as bigint;
  // An unseen line could tie with the N-th and win on its name: only a strictly smaller bound rules it out.
  if (!allComplete && !(threshold < nth)) return null;
  const out: string[] = [];
  for (const [key, s] of seen) if (s.lower + threshold - s.seenFloors >= nth) out.push(key);
  return out;
}
