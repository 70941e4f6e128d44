/**
 * View models of the weekly cost reports: everything a template prints, already decided (which rows, in what order,
 * with which change), so templates only loop and format (money, percent and dates through the renderer's helpers).
 * Money is bigint micro-units of `currency`.
 */

/** A figure and its change against the previous week. */
export interface Delta {
  readonly current: bigint;
  readonly previous: bigint;
  readonly change: bigint;
  /** Two-decimal percent as a string; null when the previous week was 0. */
  readonly percent: string | null;
}

export interface NamedAmount extends Delta {
  readonly name: string;
  /** Its share of the report's total, in basis points (0-10000), for bars. */
  readonly shareBp: number;
}

export interface FunctionLine {
  readonly name: string;
  readonly self: bigint;
  readonly inclusive: bigint;
  /** Self cost at this week's rate over a year (× 365 / 7, rounded half up). */
  readonly selfPerYear: bigint;
  readonly inclusivePerYear: bigint;
}

export interface TrendBar {
  readonly label: string;
  readonly cost: bigint;
}

export interface RegressionLine {
  readonly service: string;
  readonly function: string;
  readonly state: 'new' | 'open' | 'resolved' | 'reopened';
  readonly perYear: bigint;
  readonly ticketUrl: string | null;
}

/** What is common to the team and the organisation reports. */
export interface ReportHeader {
  readonly week: string;
  /** The week is not over yet (run on demand): the subject and body say so. */
  readonly partial: boolean;
  readonly fromIso: string;
  readonly toIso: string;
  readonly currency: string;
  readonly total: Delta;
  readonly totalPerYear: bigint;
  /** 12 ISO weeks, oldest first, this week last. */
  readonly trend: readonly TrendBar[];
  readonly subject: string;
}

export interface TeamReportView extends ReportHeader {
  readonly kind: 'team';
  readonly team: string;
  readonly services: readonly NamedAmount[];
  readonly topSelf: readonly FunctionLine[];
  readonly topInclusive: readonly FunctionLine[];
  readonly moversUp: readonly NamedAmount[];
  readonly moversDown: readonly NamedAmount[];
  readonly regressions: {
    readonly open: readonly RegressionLine[];
    readonly resolved: readonly RegressionLine[];
  } | null;
  readonly unownedServices: readonly NamedAmount[];
  readonly dashboardUrl: string | null;
}

export interface OrgReportView extends ReportHeader {
  readonly kind: 'org';
  readonly teams: readonly NamedAmount[];
  readonly crossServiceFunctions: readonly FunctionLine[];
  readonly idle: Delta;
  readonly unowned: Delta;
  readonly books: {
    readonly functionsSelf: bigint;
    readonly services: bigint;
    readonly teams: bigint;
    readonly unowned: bigint;
    readonly idle: bigint;
    readonly total: bigint;
    /** teams + unowned + idle − total: zero when the books balance. */
    readonly difference: bigint;
  };
  /** Teams whose report could not be delivered (no address, refused), for the footer. */
  readonly undelivered: readonly { readonly team: string; readonly reason: string }[];
  readonly dashboardUrl: string | null;
}
