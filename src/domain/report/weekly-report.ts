import { formatMoney } from '../cost/money-json';
import { roundHalfUp, rational } from '../cost/rational';
import type { IsoWeek } from './iso-week';
import type {
  Delta,
  FunctionLine,
  NamedAmount,
  OrgReportView,
  RegressionLine,
  ReportHeader,
  TeamReportView,
  TrendBar,
} from './weekly-report.types';

/** A row as the cost query service answers it (only what the reports read). */
export interface ReportRow {
  readonly key: string;
  readonly cost: bigint;
  readonly previous: bigint;
  readonly change: { readonly amount: bigint; readonly percent: string | null };
  readonly inclusive?: bigint;
}

export interface ReportTotal {
  readonly cost: bigint;
  readonly previous: bigint;
  readonly change: { readonly amount: bigint; readonly percent: string | null };
}

/** What the header of either report is built from. */
export interface HeaderInput {
  readonly week: IsoWeek;
  readonly partial: boolean;
  readonly currency: string;
  readonly total: ReportTotal;
  /** Cost per ISO week, oldest first, the report's week last. */
  readonly trend: readonly TrendBar[];
}

export interface TeamReportInput extends HeaderInput {
  readonly team: string;
  /** The team's services this week (rows by service, scoped to the team). */
  readonly services: readonly ReportRow[];
  readonly topSelf: readonly ReportRow[];
  readonly topInclusive: readonly ReportRow[];
  /** Null when regressions are not tracked (no scan has run): the section is left out. */
  readonly regressions: readonly RegressionLine[] | null;
  /** `__unowned__` services this week (candidates for the team to claim). */
  readonly unownedServices: readonly ReportRow[];
  readonly dashboardUrl: string | null;
}

export interface OrgReportInput extends HeaderInput {
  /** Rows by team, `__unowned__` and `__idle__` included. */
  readonly teams: readonly ReportRow[];
  readonly crossServiceFunctions: readonly ReportRow[];
  readonly books: OrgReportView['books'];
  readonly undelivered: OrgReportView['undelivered'];
  readonly dashboardUrl: string | null;
}

/** Lines in each table of a report. */
export const TOP_FUNCTIONS = 10;
export const MOVERS = 5;
const UNOWNED = '__unowned__';
const IDLE = '__idle__';

/** The view model of a team's weekly email. Pure: the same answers give the same view. */
export function buildTeamReport(input: TeamReportInput): TeamReportView {
  const services = input.services.map((r) => named(r, input.total.cost));
  const moved = services.filter((s) => s.change !== 0n);
  const regressions = input.regressions
    ? {
        open: sortByImpact(input.regressions.filter((r) => r.state !== 'resolved')),
        resolved: sortByImpact(input.regressions.filter((r) => r.state === 'resolved')),
      }
    : null;
  return {
    kind: 'team',
    ...header(
      input,
      `${input.team}: ${formatMoney(input.total.cost, input.currency)} of compute in ${input.week.label}`,
    ),
    team: input.team,
    services,
    topSelf: input.topSelf.slice(0, TOP_FUNCTIONS).map(functionLine),
    topInclusive: input.topInclusive.slice(0, TOP_FUNCTIONS).map(functionLine),
    moversUp: moved
      .filter((s) => s.change > 0n)
      .sort(byChange(-1))
      .slice(0, MOVERS),
    moversDown: moved
      .filter((s) => s.change < 0n)
      .sort(byChange(1))
      .slice(0, MOVERS),
    regressions,
    unownedServices: input.unownedServices.map((r) => named(r, input.total.cost)),
    dashboardUrl: input.dashboardUrl,
  };
}

/** The view model of the organisation's weekly email. */
export function buildOrgReport(input: OrgReportInput): OrgReportView {
  const find = (key: string): Delta => {
    const row = input.teams.find((t) => t.key === key);
    return row ? delta(row) : { current: 0n, previous: 0n, change: 0n, percent: null };
  };
  return {
    kind: 'org',
    ...header(input, `Compute cost ${input.week.label}: ${formatMoney(input.total.cost, input.currency)}`),
    teams: input.teams.filter((t) => t.key !== UNOWNED && t.key !== IDLE).map((r) => named(r, input.total.cost)),
    crossServiceFunctions: input.crossServiceFunctions.slice(0, TOP_FUNCTIONS).map(functionLine),
    idle: find(IDLE),
    unowned: find(UNOWNED),
    books: input.books,
    undelivered: input.undelivered,
    dashboardUrl: input.dashboardUrl,
  };
}

/** A week's amount at that rate over a year: × 365 / 7, rounded half up (exact bigint arithmetic). */
export function perYear(weekAmount: bigint): bigint {
  return roundHalfUp(rational(weekAmount * 365n, 7n));
}

function header(input: HeaderInput, subject: string): ReportHeader {
  return {
    week: input.week.label,
    partial: input.partial,
    fromIso: new Date(input.week.fromMs).toISOString(),
    toIso: new Date(input.week.toMs).toISOString(),
    currency: input.currency,
    total: delta(input.total),
    totalPerYear: perYear(input.total.cost),
    trend: input.trend,
    subject: input.partial ? `${subject} (partial week, so far)` : subject,
  };
}

function delta(row: ReportTotal): Delta {
  return { current: row.cost, previous: row.previous, change: row.change.amount, percent: row.change.percent };
}

function named(row: ReportRow, total: bigint): NamedAmount {
  const shareBp = total > 0n ? Number((row.cost * 10_000n) / total) : 0;
  return { name: row.key, ...delta(row), shareBp };
}

function functionLine(row: ReportRow): FunctionLine {
  const inclusive = row.inclusive ?? row.cost;
  return {
    name: row.key,
    self: row.cost,
    inclusive,
    selfPerYear: perYear(row.cost),
    inclusivePerYear: perYear(inclusive),
  };
}

function byChange(direction: 1 | -1) {
  return (a: NamedAmount, b: NamedAmount): number =>
    a.change === b.change ? (a.name < b.name ? -1 : 1) : (a.change < b.change ? -1 : 1) * direction;
}

function sortByImpact(lines: readonly RegressionLine[]): RegressionLine[] {
  return [...lines].sort((a, b) =>
    a.perYear === b.perYear ? (a.function < b.function ? -1 : 1) : a.perYear > b.perYear ? -1 : 1,
  );
}
