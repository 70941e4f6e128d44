/**
 * The dashboard's view models: the query service's answers shaped for the templates (shares for bars, chart data for
 * the browser). Nothing here adds or rounds money: amounts are the query service's bigints, printed by the shared
 * template helpers; only the chart data turns them into numbers, for drawing.
 */

/** One line of an amount table. */
export interface AmountLine {
  readonly name: string;
  /** Team rows: group, unowned or idle; service rows: the owning team(s). */
  readonly detail: string | null;
  readonly cost: bigint;
  readonly previous: bigint;
  readonly change: Change;
  /** Share of the table's total in basis points (for the bar and the share column). */
  readonly shareBp: number;
}

/** A line of a function table: self and inclusive cost of the period. */
export interface FunctionLine {
  readonly name: string;
  readonly self: bigint;
  readonly inclusive: bigint;
  readonly selfShareBp: number;
  readonly inclusiveShareBp: number;
}

/** What `reports/assets/charts.js` draws: one label per step, one series per name, amounts in currency units. */
export interface ChartData {
  readonly kind: 'stacked-area' | 'line' | 'sparkline';
  readonly labels: readonly string[];
  readonly series: readonly { readonly name: string; readonly values: readonly number[] }[];
  readonly currency: string;
}

const MICRO = 1_000_000;

/** current − previous, as the query service gives it. */
export interface Change {
  readonly amount: bigint;
  readonly percent: string | null;
}

/** part / total in basis points, rounded down (0 when the total is 0 or negative). */
export function shareBp(part: bigint, total: bigint): number {
  if (total <= 0n || part <= 0n) return 0;
  return Number((part * 10_000n) / total);
}

export function amountLines(
  rows: readonly {
    key: string;
    detail: string | null;
    cost: bigint;
    previous: bigint;
    change: Change;
  }[],
  total: bigint,
): AmountLine[] {
  return rows.map((r) => ({
    name: r.key,
    detail: r.detail,
    cost: r.cost,
    previous: r.previous,
    change: r.change,
    shareBp: shareBp(r.cost, total),
  }));
}

/** Function rows (self cost, inclusive cost) with shares of `total` (the scope's cost of the period). */
export function functionLines(
  rows: readonly { key: string; cost: bigint; inclusive?: bigint }[],
  total: bigint,
): FunctionLine[] {
  return rows.map((r) => ({
    name: r.key,
    self: r.cost,
    inclusive: r.inclusive ?? r.cost,
    selfShareBp: shareBp(r.cost, total),
    inclusiveShareBp: shareBp(r.inclusive ?? r.cost, total),
  }));
}

/**
 * Chart data of series over the same steps. Micro-units become currency units as JS numbers: exact to the cent far
 * beyond any bill (2^53 micro-units is $9 billion), and only drawn, never added up again.
 */
export function chartData(
  kind: ChartData['kind'],
  currency: string,
  series: readonly { name: string; points: readonly { label: string; cost: bigint }[] }[],
): ChartData {
  const labels = series[0]?.points.map((p) => p.label) ?? [];
  return {
    kind,
    currency,
    labels,
    series: series.map((s) => ({ name: s.name, values: s.points.map((p) => Number(p.cost) / MICRO) })),
  };
}

/**
 * The series of a stacked chart: the `keep` largest by total, the rest summed into one `other` series (a chart of 40
 * colours says nothing), largest first.
 */
export function topSeries(
  series: ReadonlyMap<string, readonly { label: string; cost: bigint }[]>,
  keep: number,
): { name: string; points: { label: string; cost: bigint }[] }[] {
  const ranked = [...series.entries()]
    .map(([name, points]) => ({ name, points: [...points], total: points.reduce((s, p) => s + p.cost, 0n) }))
    .sort((a, b) => (a.total === b.total ? a.name.localeCompare(b.name) : a.total > b.total ? -1 : 1));
  const kept = ranked.slice(0, keep);
  const rest = ranked.slice(keep);
  if (rest.length === 0) return kept.map(({ name, points }) => ({ name, points }));
  const other = rest[0]!.points.map((p, i) => ({
    label: p.label,
    cost: rest.reduce((s, r) => s + (r.points[i]?.cost ?? 0n), 0n),
  }));
  return [...kept.map(({ name, points }) => ({ name, points })), { name: `${rest.length} others`, points: other }];
}
