import type { CostRow, PeriodInfo, RowsAnswer, TrendPoint } from '../cost/cost-query.service';
import { moneyJson } from '../domain/cost';
import { changeJson, coreHours, share } from '../domain/export/api-format';

/** The period of an answer: as asked, what the figures cover (`through`), and the previous period compared. */
export function periodJson(p: PeriodInfo) {
  return {
    step: p.step,
    from: p.from.toISOString(),
    to: p.to.toISOString(),
    through: p.through.toISOString(),
    partial: p.partial,
    previous: { from: p.previousFrom.toISOString(), to: p.previousTo.toISOString() },
  };
}

/** One grouped row: money as strings, CPU time and core-hours as decimal strings (null when not kept), share of `total`. */
export function rowJson(row: CostRow, total: bigint) {
  return {
    key: row.key,
    detail: row.detail,
    cost: moneyJson(row.cost),
    share: share(row.cost, total),
    cpuNanoseconds: row.cpuNanoseconds === null ? null : row.cpuNanoseconds.toString(),
    coreHours: row.cpuNanoseconds === null ? null : coreHours(row.cpuNanoseconds),
    previous: moneyJson(row.previous),
    change: changeJson(row.change),
    ...(row.inclusive === undefined ? {} : { inclusive: moneyJson(row.inclusive) }),
  };
}

export function totalJson(answer: RowsAnswer) {
  return {
    cost: moneyJson(answer.total.cost),
    previous: moneyJson(answer.total.previous),
    change: changeJson(answer.total.change),
  };
}

export function trendJson(points: readonly TrendPoint[]) {
  return points.map((p) => ({
    label: p.label,
    from: p.from.toISOString(),
    to: p.to.toISOString(),
    cost: moneyJson(p.cost),
  }));
}

export type RowJson = ReturnType<typeof rowJson>;

/** The CSV columns of grouped rows (money in micro-units and decimal). */
export const ROW_COLUMNS = [
  'key',
  'detail',
  'cost_microdollars',
  'cost_dollars',
  'share',
  'cpu_nanoseconds',
  'core_hours',
  'previous_microdollars',
  'change_microdollars',
  'change_percent',
  'inclusive_microdollars',
];

export function rowCsv(r: RowJson) {
  return [
    r.key,
    r.detail,
    r.cost.microdollars,
    r.cost.dollars,
    r.share,
    r.cpuNanoseconds,
    r.coreHours,
    r.previous.microdollars,
    r.change.cost.microdollars,
    r.change.percent,
    r.inclusive?.microdollars,
  ];
}
