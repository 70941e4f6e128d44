import { Inject, Injectable } from '@nestjs/common';
import {
  bucketLabel,
  buckets,
  percentChange,
  resolvePeriod,
  type ResolvedPeriod,
  type Step,
  type TimeRange,
} from '../domain/cost';
import {
  CostQueryRepository,
  type FunctionAmounts,
  type Grouping,
  type KeysetAfter,
  type Scope,
  type TimedAmount,
} from './cost-query.repository';
import { FunctionDictionary } from './function-dictionary';
import { isDaily, LeaderboardRepository } from './leaderboard.repository';

export type { Scope } from './cost-query.repository';

/** The clock the service resolves partial periods with (a function, so tests pass a fixed instant). */
export const COST_QUERY_CLOCK = Symbol('flamebill.costQueryClock');

/** `team`, `service`, `function` or `label:<key>`. */
export type GroupBy = 'team' | 'service' | 'function' | `label:${string}`;

/** A period [from, to) aligned to `step` (ISO weeks, calendar months, UTC). */
export interface PeriodRequest {
  readonly from: Date;
  readonly to: Date;
  readonly step: Step;
}

export interface PeriodInfo {
  readonly step: Step;
  readonly from: Date;
  readonly to: Date;
  /** End of what the figures cover: `to`, or the last whole hour before now when `partial`. */
  readonly through: Date;
  readonly partial: boolean;
  readonly previousFrom: Date;
  readonly previousTo: Date;
}

/** current − previous in micro-units, and in percent (two decimals as a string; null when previous is 0). */
export interface Change {
  readonly amount: bigint;
  readonly percent: string | null;
}

export interface CostRow {
  readonly key: string;
  /** Team rows: `group`, `unowned` or `idle`; service rows: the owning team(s), comma-separated. */
  readonly detail: string | null;
  readonly cost: bigint;
  readonly previous: bigint;
  readonly change: Change;
  /** CPU time behind the cost; null for function and label rows (function facts keep money only). */
  readonly cpuNanoseconds: bigint | null;
  /** Function rows: inclusive cost (overlapping: never summed into a total). */
  readonly inclusive?: bigint;
}

export interface RowsAnswer {
  readonly period: PeriodInfo;
  readonly groupBy: GroupBy;
  readonly rows: readonly CostRow[];
  /** Σ of every row over all pages (function rows: Σ self). */
  readonly total: { readonly cost: bigint; readonly previous: bigint; readonly change: Change };
  /** Lines over all pages; null when the organisation's functions were ranked from the board lists (not all read). */
  readonly count: number | null;
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface TrendPoint {
  readonly label: string;
  readonly from: Date;
  readonly to: Date;
  readonly cost: bigint;
}

export type TrendSubject = Scope | { readonly kind: 'function'; readonly function: string; readonly service?: string };

export interface BooksLine {
  readonly label: string;
  readonly from: Date;
  readonly to: Date;
  readonly functionsSelf: bigint;
  readonly services: bigint;
  readonly teams: bigint;
  readonly unowned: bigint;
  readonly idle: bigint;
  /** Σ of the window totals: the configured bill or fleet capacity of allocated pools plus measured costs. */
  readonly total: bigint;
  readonly measured: bigint;
  readonly allocated: bigint;
  readonly windows: number;
  /** functions − services, services + idle − total, teams + unowned + idle − total, idle on teams − idle on windows. */
  readonly differences: {
    readonly functionsVsServices: bigint;
    readonly servicesVsTotal: bigint;
    readonly teamsVsTotal: bigint;
    readonly idle: bigint;
  };
  readonly balanced: boolean;
}

const MAX_LIMIT = 1000;

/**
 * The one read model of the cost facts (docs/data-model.md, "Query service"): grouped rows with the previous period
 * and the change, trends, top functions, the cross-service view of a function, the books and provenance. Every
 * publisher (finance API, email, dashboard, regression tickets) reads through it, so they all show the same
 * numbers. Money is bigint micro-units of the currency throughout; formatting is the publishers' job.
 */
@Injectable()
export class CostQueryService {
  constructor(
    private readonly repository: CostQueryRepository,
    private readonly leaderboards: LeaderboardRepository,
    private readonly functions: FunctionDictionary,
    @Inject(COST_QUERY_CLOCK) private readonly clock: () => number,
  ) {}

  /** Rows grouped by team, service, function or label over the period, with previous amounts; one keyset page. */
  async rows(
    request: PeriodRequest & {
      readonly groupBy: GroupBy;
      readonly scope?: Scope;
      readonly limit?: number;
      readonly cursor?: string | null;
    },
  ): Promise<RowsAnswer> {
    const period = this.resolve(request);
    const scope = request.scope ?? { kind: 'org' };
    const limit = clampLimit(request.limit);
    const after = request.cursor ? decodeCursor(request.cursor) : null;
    if (request.groupBy === 'function') return this.functionRows(period, scope, 'self', limit, after, 'function');
    const grouping: Grouping =
      request.groupBy === 'team' || request.groupBy === 'service'
        ? { kind: request.groupBy }
        : { kind: 'label', key: labelKey(request.groupBy) };
    const page = await this.repository.groups(grouping, scope, period.current, period.previous, {
      limit: limit + 1,
      after,
    });
    const lines = page.lines.slice(0, limit);
    const last = lines.at(-1);
    return {
      period: info(period),
      groupBy: request.groupBy,
      rows: lines.map((l) => ({
        key: l.key,
        detail: l.detail,
        cost: l.current,
        previous: l.previous,
        change: change(l.current, l.previous),
        cpuNanoseconds: grouping.kind === 'label' ? null : l.cpuNanoseconds,
      })),
      total: {
        cost: page.totalCurrent,
        previous: page.totalPrevious,
        change: change(page.totalCurrent, page.totalPrevious),
      },
      count: page.count,
      nextCursor: page.lines.length > limit && last ? encodeCursor({ amount: last.current, key: last.key }) : null,
    };
  }

  /**
   * Every row of a grouping as one answer: `rows` pages of MAX_LIMIT until the last (a team has few services, the
   * organisation a catalog's worth), `nextCursor` null. What publishers that show or export a whole table call.
   */
  async allRows(request: PeriodRequest & { readonly groupBy: GroupBy; readonly scope?: Scope }): Promise<RowsAnswer> {
    const first = await this.rows({ ...request, limit: MAX_LIMIT });
    const rows: CostRow[] = [...first.rows];
    for (let cursor = first.nextCursor; cursor !== null;) {
      const page = await this.rows({ ...request, limit: MAX_LIMIT, cursor });
      rows.push(...page.rows);
      cursor = page.nextCursor;
    }
    return { ...first, rows, nextCursor: null };
  }

  /** The top functions of a team, a service or the organisation, ranked by self or inclusive cost. */
  topFunctions(
    request: PeriodRequest & {
      readonly scope: Scope;
      readonly by: 'self' | 'inclusive';
      readonly limit?: number;
      readonly cursor?: string | null;
    },
  ): Promise<RowsAnswer> {
    const period = this.resolve(request);
    return this.functionRows(
      period,
      request.scope,
      request.by,
      clampLimit(request.limit),
      request.cursor ? decodeCursor(request.cursor) : null,
      'function',
    );
  }

  /** Which services pay for a function over the period: self and inclusive per service, with previous self. */
  async crossService(request: PeriodRequest & { readonly function: string }): Promise<RowsAnswer> {
    const period = this.resolve(request);
    const id = await this.repository.functionId(request.function);
    const [now, before] =
      id === null
        ? [new Map(), new Map()]
        : await Promise.all([
            this.repository.functionByService(id, period.current),
            this.repository.functionByService(id, period.previous),
          ]);
    const keys = [...new Set([...now.keys(), ...before.keys()])];
    const lines = keys
      .map((service) => ({
        service,
        cur: (now.get(service) as FunctionAmounts | undefined) ?? { self: 0n, cum: 0n },
        prev: (before.get(service) as FunctionAmounts | undefined)?.self ?? 0n,
      }))
      .sort((a, b) => compareDesc(a.cur.self, b.cur.self) || compareText(a.service, b.service));
    const total = lines.reduce((s, l) => s + l.cur.self, 0n);
    const totalPrevious = lines.reduce((s, l) => s + l.prev, 0n);
    return {
      period: info(period),
      groupBy: 'service',
      rows: lines.map((l) => ({
        key: l.service,
        detail: null,
        cost: l.cur.self,
        previous: l.prev,
        change: change(l.cur.self, l.prev),
        cpuNanoseconds: null,
        inclusive: l.cur.cum,
      })),
      total: { cost: total, previous: totalPrevious, change: change(total, totalPrevious) },
      count: lines.length,
      nextCursor: null,
    };
  }

  /** One series per step: the organisation's total, a team's own cost, a service's, or a function's self cost. */
  async trend(
    request: PeriodRequest & { readonly subject: TrendSubject },
  ): Promise<{ readonly period: PeriodInfo; readonly points: readonly TrendPoint[] }> {
    const period = this.resolve(request);
    const hourly = period.step === 'hour';
    let amounts: TimedAmount[];
    if (request.subject.kind === 'function') {
      const id = await this.repository.functionId(request.subject.function);
      amounts =
        id === null
          ? []
          : await this.repository.functionOverTime(id, request.subject.service ?? null, period.current, hourly);
    } else amounts = await this.repository.amountsOverTime(request.subject, period.current, { hourly });
    return { period: info(period), points: bucketize(period, amounts).get('') ?? emptySeries(period) };
  }

  /** A series per team (own cost, with `__unowned__` and `__idle__`) or per service, one point per step. */
  async trends(
    request: PeriodRequest & { readonly each: 'team' | 'service'; readonly scope?: Scope },
  ): Promise<{ readonly period: PeriodInfo; readonly series: ReadonlyMap<string, readonly TrendPoint[]> }> {
    const period = this.resolve(request);
    const amounts = await this.repository.amountsOverTime(request.scope ?? { kind: 'org' }, period.current, {
      hourly: period.step === 'hour',
      each: request.each,
    });
    return { period: info(period), series: bucketize(period, amounts) };
  }

  /** The books of each step of the period and of the whole period (last line): every figure from its own table. */
  async books(request: PeriodRequest): Promise<{ readonly period: PeriodInfo; readonly lines: readonly BooksLine[] }> {
    const period = this.resolve(request);
    const ranges = buckets(period.current, period.step);
    const lines: BooksLine[] = [];
    for (const range of ranges) lines.push(await this.booksOf(range, bucketLabel(range.fromMs, period.step)));
    if (ranges.length > 1) lines.push(await this.booksOf(period.current, 'period'));
    return { period: info(period), lines };
  }

  /** Per service, its cost over [from, to) split by the values of label `key` (the FOCUS export's label tags). */
  serviceLabelAmounts(range: { readonly from: Date; readonly to: Date }, key: string) {
    return this.repository.serviceLabelAmounts(key, { fromMs: range.from.getTime(), toMs: range.to.getTime() });
  }

  /** Price schedules, catalog revisions, price ids and profile digests behind a scope's figures of the period. */
  async provenance(request: PeriodRequest & { readonly scope?: Scope; readonly digestLimit?: number }) {
    const period = this.resolve(request);
    return {
      period: info(period),
      ...(await this.repository.provenance(
        request.scope ?? { kind: 'org' },
        period.current,
        request.digestLimit ?? 1000,
      )),
    };
  }

  private async booksOf(range: TimeRange, label: string): Promise<BooksLine> {
    const f = await this.repository.books(range);
    const differences = {
      functionsVsServices: f.functionsSelf - f.services,
      servicesVsTotal: f.services + f.idleWindows - f.windowTotals,
      teamsVsTotal: f.teams + f.unowned + f.idleTeams - f.windowTotals,
      idle: f.idleTeams - f.idleWindows,
    };
    return {
      label,
      from: new Date(range.fromMs),
      to: new Date(range.toMs),
      functionsSelf: f.functionsSelf,
      services: f.services,
      teams: f.teams,
      unowned: f.unowned,
      idle: f.idleWindows,
      total: f.windowTotals,
      measured: f.measured,
      allocated: f.allocated + f.idleWindows,
      windows: f.windows,
      differences,
      balanced: Object.values(differences).every((d) => d === 0n),
    };
  }

  /**
   * Function lines ranked by `by` (amount desc, name asc). A service's or team's functions over whole days are summed
   * and ranked in SQL from their per-service copies (with hourly edges, summed here with the window splits); the
   * organisation's first page over whole days starts from the stored board lists (as the function leaderboards do)
   * instead of summing every entry of the period.
   */
  private async functionRows(
    period: ResolvedPeriod,
    scope: Scope,
    by: 'self' | 'inclusive',
    limit: number,
    after: KeysetAfter | null,
    groupBy: GroupBy,
  ): Promise<RowsAnswer> {
    const column = by === 'self' ? 'self' : 'cum';
    let amounts: Map<number, FunctionAmounts> | undefined;
    let ranked: Array<{ id: number; name: string; amounts: FunctionAmounts }> | undefined;
    let count: number | null = null;
    // From the board lists and the SQL ranking, the previous amounts of the ranked functions come with them.
    let listedPrevious: Map<number, bigint> | null = null;
    const boards =
      scope.kind === 'org' && after === null && isDaily(range(period.current)) && isDaily(range(period.previous));
    if (boards) {
      const lines = await this.leaderboards.crossServiceFunctions(
        range(period.current),
        range(period.previous),
        by,
        limit + 1,
        { services: false },
      );
      listedPrevious = new Map(lines.map((l) => [l.key.functionId as number, l.previous]));
      amounts = new Map(
        lines.map((l) => [
          l.key.functionId as number,
          by === 'self'
            ? { self: l.current, cum: l.extra.other as bigint }
            : { self: l.extra.other as bigint, cum: l.current },
        ]),
      );
    } else if (scope.kind !== 'org' && isDaily(range(period.current)) && period.current.toMs > period.current.fromMs) {
      // A team's or a service's whole days are ranked in SQL: only the page comes back, with its previous amounts.
      const previousDays = isDaily(range(period.previous)) ? period.previous : null;
      const inSql = await this.repository.rankedFunctions(
        scope,
        period.current,
        previousDays,
        column,
        limit + 1,
        after,
      );
      ranked = inSql.lines;
      count = inSql.total;
      if (previousDays) listedPrevious = new Map(inSql.lines.map((l) => [l.id, l.previous[column]]));
    } else amounts = await this.repository.functionAmounts(scope, period.current);
    ranked ??= await this.rank(amounts!, column, limit + 1, after);
    const page = ranked.slice(0, limit);
    // Σ function self = Σ services (the books check it), so the total comes from the service rollups.
    const [previous, totals] = await Promise.all([
      listedPrevious
        ? new Map(page.map((l) => [l.id, listedPrevious.get(l.id) ?? 0n]))
        : this.repository
            .functionAmounts(
              scope,
              period.previous,
              page.map((l) => l.id),
            )
            .then((m) => new Map([...m].map(([id, a]) => [id, a[column]]))),
      this.repository.groups({ kind: 'service' }, scope, period.current, period.previous, { limit: 1, after: null }),
    ]);
    const last = page.at(-1);
    return {
      period: info(period),
      groupBy,
      rows: page.map((l) => {
        const prev = previous.get(l.id) ?? 0n;
        const cost = l.amounts[column];
        return {
          key: l.name,
          detail: null,
          cost,
          previous: prev,
          change: change(cost, prev),
          cpuNanoseconds: null,
          inclusive: l.amounts.cum,
        };
      }),
      total: {
        cost: totals.totalCurrent,
        previous: totals.totalPrevious,
        change: change(totals.totalCurrent, totals.totalPrevious),
      },
      count: boards ? null : (amounts?.size ?? count),
      nextCursor: ranked.length > limit && last ? encodeCursor({ amount: last.amounts[column], key: last.name }) : null,
    };
  }

  /** Sorts function amounts by (amount desc, name asc) after the keyset, fetching names only where they decide. */
  private async rank(
    amounts: ReadonlyMap<number, FunctionAmounts>,
    column: 'self' | 'cum',
    count: number,
    after: KeysetAfter | null,
  ) {
    let entries = [...amounts].map(([id, a]) => ({ id, amounts: a }));
    if (after) {
      const ties = entries.filter((e) => e.amounts[column] === after.amount);
      const names = await this.functions.namesOf(ties.map((e) => e.id));
      entries = entries.filter(
        (e) =>
          e.amounts[column] < after.amount ||
          (e.amounts[column] === after.amount && (names.get(e.id) ?? '') > after.key),
      );
    }
    entries.sort((a, b) => compareDesc(a.amounts[column], b.amounts[column]));
    const boundary = entries[count - 1]?.amounts[column];
    const candidates = boundary === undefined ? entries : entries.filter((e) => e.amounts[column] >= boundary);
    const names = await this.functions.namesOf(candidates.map((e) => e.id));
    return candidates
      .map((e) => ({ ...e, name: names.get(e.id) ?? `#${e.id}` }))
      .sort((a, b) => compareDesc(a.amounts[column], b.amounts[column]) || compareText(a.name, b.name))
      .slice(0, count);
  }

  private resolve(request: PeriodRequest): ResolvedPeriod {
    return resolvePeriod(
      { fromMs: request.from.getTime(), toMs: request.to.getTime(), step: request.step },
      this.clock(),
    );
  }
}

/** Sums timed amounts into the period's steps, one series per key; every series has every step (0 when empty). */
function bucketize(period: ResolvedPeriod, amounts: readonly TimedAmount[]): Map<string, TrendPoint[]> {
  const ranges = buckets(period.current, period.step);
  const index = new Map(ranges.map((r, i) => [r.fromMs, i]));
  const sums = new Map<string, bigint[]>();
  for (const a of amounts) {
    let series = sums.get(a.key);
    if (!series) sums.set(a.key, (series = ranges.map(() => 0n)));
    const i = index.get(stepStart(a.atMs, ranges));
    if (i === undefined) throw new RangeError(`amount at ${new Date(a.atMs).toISOString()} is outside the period`);
    series[i] = (series[i] as bigint) + a.amount;
  }
  const out = new Map<string, TrendPoint[]>();
  for (const [key, series] of [...sums].sort(([a], [b]) => compareText(a, b))) {
    out.set(
      key,
      ranges.map((r, i) => ({
        label: bucketLabel(r.fromMs, period.step),
        from: new Date(r.fromMs),
        to: new Date(r.toMs),
        cost: series[i] as bigint,
      })),
    );
  }
  return out;
}

/** The start of the step of `ranges` (ascending, contiguous) holding `ms`. */
function stepStart(ms: number, ranges: readonly TimeRange[]): number {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((ranges[mid] as TimeRange).fromMs <= ms) lo = mid;
    else hi = mid - 1;
  }
  return (ranges[lo] as TimeRange).fromMs;
}

function emptySeries(period: ResolvedPeriod): TrendPoint[] {
  return buckets(period.current, period.step).map((r) => ({
    label: bucketLabel(r.fromMs, period.step),
    from: new Date(r.fromMs),
    to: new Date(r.toMs),
    cost: 0n,
  }));
}

function info(period: ResolvedPeriod): PeriodInfo {
  return {
    step: period.step,
    from: new Date(period.requested.fromMs),
    to: new Date(period.requested.toMs),
    through: new Date(period.current.toMs),
    partial: period.partial,
    previousFrom: new Date(period.previous.fromMs),
    previousTo: new Date(period.previous.toMs),
  };
}

export function change(current: bigint, previous: bigint): Change {
  return { amount: current - previous, percent: percentChange(current, previous) };
}

function range(r: TimeRange): { from: Date; to: Date } {
  return { from: new Date(r.fromMs), to: new Date(r.toMs) };
}

function labelKey(groupBy: string): string {
  const key = groupBy.startsWith('label:') ? groupBy.slice('label:'.length) : '';
  if (key === '') throw new RangeError(`groupBy must be team, service, function or label:<key>, got "${groupBy}"`);
  return key;
}

function clampLimit(limit: number | undefined): number {
  const n = limit ?? 100;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT)
    throw new RangeError(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  return n;
}

/** An opaque cursor: base64url of the last line's amount and key. */
export function encodeCursor(after: KeysetAfter): string {
  return Buffer.from(JSON.stringify([after.amount.toString(), after.key])).toString('base64url');
}

export function decodeCursor(cursor: string): KeysetAfter {
  try {
    const [amount, key] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    if (!/^\d+$/.test(amount) || typeof key !== 'string') throw new Error('shape');
    return { amount: BigInt(amount), key };
  } catch {
    throw new RangeError('cursor is not one this service returned');
  }
}

function compareDesc(a: bigint, b: bigint): number {
  return a === b ? 0 : a > b ? -1 : 1;
}

/** Byte order, as PostgreSQL's C collation and the keyset predicate compare. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
