import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { CatalogRepository } from '../catalog/catalog.repository';
import { CatalogService } from '../catalog/catalog.service';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { CostQueryService, type PeriodInfo } from '../cost/cost-query.service';
import { amountLines, chartData, functionLines, topSeries, type PagePeriod } from '../domain/dashboard';
import { RegressionsService } from '../regressions/regressions.service';
import type { FindingRow, ListedTicket } from '../regressions/regression.repository';

/** The clock pages resolve "last 7 days" with (a function, so tests pass a fixed instant). */
export const DASHBOARD_CLOCK = Symbol('flamebill.dashboardClock');

/** Rows a CSV link asks for: the API's largest page. */
const CSV_ROWS = 1000;
const TOP_FUNCTIONS = 25;
const TOP_LABELS = 15;
/** Services drawn as their own band of a team's stacked trend; the rest form one band. */
const STACKED_SERVICES = 8;

type Finding = FindingRow & { ticket: ListedTicket | null };

/** A regression as the pages list it. */
export interface RegressionLine {
  readonly fingerprint: string;
  readonly service: string;
  readonly team: string | null;
  readonly function: string;
  readonly kind: string;
  readonly state: string;
  readonly impactPerYear: bigint | null;
  readonly baseSharePct: string;
  readonly currentSharePct: string;
  readonly versions: string | null;
  readonly firstSeen: string;
  readonly ticketUrl: string | null;
  readonly ticketLabel: string | null;
}

/**
 * Builds what each dashboard page shows from the cost query service, the catalog and the regressions API, so the
 * pages show the numbers the email and the finance API show. Computes no money of its own.
 */
@Injectable()
export class DashboardViewService {
  constructor(
    private readonly costs: CostQueryService,
    private readonly catalog: CatalogService,
    private readonly catalogRows: CatalogRepository,
    private readonly regressions: RegressionsService,
    @InjectSettings() private readonly settings: Settings,
    @Inject(DASHBOARD_CLOCK) readonly clock: () => number,
  ) {}

  get currency(): string {
    return this.settings.currency;
  }

  /** `/`: the organisation's total, teams with sparklines, top functions, idle, unowned, the books, open regressions. */
  async overview(period: PagePeriod) {
    const request = { from: period.from, to: period.to, step: period.step };
    const [teams, trends, functions, books, regressions] = await Promise.all([
      this.costs.allRows({ ...request, groupBy: 'team' }),
      this.costs.trends({ ...request, each: 'team' }),
      this.costs.topFunctions({ ...request, scope: { kind: 'org' }, by: 'self', limit: TOP_FUNCTIONS }),
      this.costs.books(request),
      this.openRegressions({}),
    ]);
    const total = teams.total;
    const lines = amountLines(teams.rows, total.cost);
    const byKind = (kind: string) => lines.find((l) => l.detail === kind);
    const whole = books.lines.at(-1)!;
    return {
      ...this.header(period, teams.period),
      total,
      teams: lines.map((line) => ({
        ...line,
        link: line.detail === 'group' ? `/teams/${encodeURIComponent(line.name)}?${period.query}` : null,
        sparkline: JSON.stringify(
          chartData('sparkline', this.currency, [{ name: line.name, points: trends.series.get(line.name) ?? [] }]),
        ),
      })),
      functions: functionLines(functions.rows, total.cost),
      idle: byKind('idle') ?? null,
      unowned: byKind('unowned') ?? null,
      books: {
        functionsSelf: whole.functionsSelf,
        services: whole.services,
        teams: whole.teams,
        unowned: whole.unowned,
        idle: whole.idle,
        total: whole.total,
        difference: whole.differences.teamsVsTotal,
        balanced: whole.balanced,
      },
      regressions,
      csv: {
        teams: this.csv(period, { groupBy: 'team' }),
        functions: this.csv(period, { groupBy: 'function' }),
        books: `/api/v1/books?${this.apiPeriod(period)}&format=csv`,
      },
    };
  }

  /** `/teams/{team}`: trend by service, services, top functions, label breakdowns, regressions. */
  async team(team: string, period: PagePeriod) {
    const request = { from: period.from, to: period.to, step: period.step };
    const scope = { kind: 'team' as const, team };
    const [teamRows, services, trends, topSelf, topInclusive, labels, regressions, catalogTeams] = await Promise.all([
      this.costs.rows({ ...request, groupBy: 'team', scope, limit: 1 }),
      this.costs.allRows({ ...request, groupBy: 'service', scope }),
      this.costs.trends({ ...request, each: 'service', scope }),
      this.costs.topFunctions({ ...request, scope, by: 'self', limit: TOP_FUNCTIONS }),
      this.costs.topFunctions({ ...request, scope, by: 'inclusive', limit: TOP_FUNCTIONS }),
      this.labelBreakdowns(request, scope),
      this.openRegressions({ team }),
      this.catalogTeams(),
    ]);
    const row = teamRows.rows[0];
    const entry = catalogTeams.get(team);
    if (!row && !entry) throw new NotFoundException(`no team "${team}" in the catalog or in the costs of the period`);
    const total = services.total;
    const stacked = topSeries(trends.series, STACKED_SERVICES);
    return {
      ...this.header(period, services.period),
      team,
      kind: row?.detail ?? 'group',
      displayName: entry?.displayName ?? null,
      email: entry?.email ?? null,
      parentTeam: entry?.parentTeam ?? null,
      childTeams: [...catalogTeams.values()].filter((t) => t.parentTeam === team).map((t) => t.team),
      cost: row?.cost ?? 0n,
      previous: row?.previous ?? 0n,
      change: row?.change ?? { amount: 0n, percent: null },
      servicesTotal: total,
      trend: JSON.stringify(chartData('stacked-area', this.currency, stacked)),
      trendTable: this.trendTable(stacked),
      services: amountLines(services.rows, total.cost).map((l) => ({ ...l, link: this.serviceLink(l.name, period) })),
      topSelf: functionLines(topSelf.rows, total.cost).map((l) => ({ ...l, link: this.functionLink(l.name, period) })),
      topInclusive: functionLines(topInclusive.rows, total.cost).map((l) => ({
        ...l,
        link: this.functionLink(l.name, period),
      })),
      labels,
      regressions,
      flamegraph: `/flamegraphs/teams/${encodeURIComponent(team)}?${period.query}`,
      csv: {
        services: this.csv(period, { groupBy: 'service', team }),
        functions: this.csv(period, { groupBy: 'function', team }),
      },
    };
  }

  /** `/services/{service}`: owner, trend, top functions, versions, regressions, downloads. */
  async service(service: string, period: PagePeriod) {
    const request = { from: period.from, to: period.to, step: period.step };
    const scope = { kind: 'service' as const, service };
    const [answer, trend, topSelf, topInclusive, labels, regressions, catalogServices] = await Promise.all([
      this.costs.rows({ ...request, groupBy: 'service', scope, limit: 1 }),
      this.costs.trend({ ...request, subject: scope }),
      this.costs.topFunctions({ ...request, scope, by: 'self', limit: TOP_FUNCTIONS }),
      this.costs.topFunctions({ ...request, scope, by: 'inclusive', limit: TOP_FUNCTIONS }),
      this.labelBreakdowns(request, scope),
      this.openRegressions({ service }),
      this.catalogServices(),
    ]);
    const row = answer.rows[0];
    const entry = catalogServices.get(service);
    if (!row && !entry)
      throw new NotFoundException(`no service "${service}" in the catalog or in the costs of the period`);
    const cost = row?.cost ?? 0n;
    const owner = entry?.team ?? row?.detail ?? null;
    const profile = (format: string) =>
      `/services/${encodeURIComponent(service)}/profile?${period.query}&format=${format}`;
    return {
      ...this.header(period, answer.period),
      service,
      owner,
      ownerLink:
        owner && !owner.startsWith('__') && !owner.includes(',')
          ? `/teams/${encodeURIComponent(owner)}?${period.query}`
          : null,
      system: entry?.system ?? null,
      inCatalog: entry !== undefined,
      cost,
      previous: row?.previous ?? 0n,
      change: row?.change ?? { amount: 0n, percent: null },
      trend: JSON.stringify(chartData('line', this.currency, [{ name: service, points: trend.points }])),
      trendTable: this.trendTable([{ name: service, points: [...trend.points] }]),
      topSelf: functionLines(topSelf.rows, cost).map((l) => ({ ...l, link: this.functionLink(l.name, period) })),
      topInclusive: functionLines(topInclusive.rows, cost).map((l) => ({
        ...l,
        link: this.functionLink(l.name, period),
      })),
      labels,
      regressions,
      flamegraph: `/flamegraphs/services/${encodeURIComponent(service)}?${period.query}`,
      downloads: { pprof: profile('pprof'), speedscope: profile('speedscope'), folded: profile('folded') },
      csv: { functions: this.csv(period, { groupBy: 'function', service }) },
    };
  }

  /** `/functions/{name}`: which services pay for a function, and what each of them paid over time. */
  async function(name: string, period: PagePeriod) {
    const request = { from: period.from, to: period.to, step: period.step };
    const answer = await this.costs.crossService({ ...request, function: name });
    if (answer.rows.length === 0)
      throw new NotFoundException(`no cost for function "${name}" in this period or the one before`);
    const payers = answer.rows.filter((r) => r.cost > 0n).slice(0, STACKED_SERVICES);
    const trends = await Promise.all(
      payers.map((r) =>
        this.costs.trend({ ...request, subject: { kind: 'function', function: name, service: r.key } }),
      ),
    );
    const series = payers.map((r, i) => ({ name: r.key, points: [...trends[i]!.points] }));
    const shown = series.length > 0 ? series : [{ name, points: [] }];
    return {
      ...this.header(period, answer.period),
      function: name,
      total: answer.total,
      services: amountLines(answer.rows, answer.total.cost).map((l, i) => ({
        ...l,
        inclusive: answer.rows[i]!.inclusive ?? l.cost,
        link: this.serviceLink(l.name, period),
      })),
      trend: JSON.stringify(chartData('stacked-area', this.currency, shown)),
      trendTable: this.trendTable(shown),
      others: answer.rows.filter((r) => r.cost > 0n).length - payers.length,
      csv: { services: this.csv(period, { groupBy: 'service', function: name }) },
    };
  }

  /** A regression: its figures, ticket and links (its differential flame graph is drawn from `flamegraph`). */
  async regression(fingerprint: string) {
    const found = await this.finding(fingerprint);
    return {
      currency: this.currency,
      ...regressionLine(found),
      baseWindow: window(found.baseFrom, found.baseTo),
      currentWindow: window(found.currentFrom, found.currentTo),
      pValue: found.pValue.toExponential(2),
      cpuSecondsDelta: (Number(found.cpuNanosecondsDelta) / 1e9).toFixed(1),
      topCallers: found.topCallers.map((c) => ({
        function: c.function,
        cpuSecondsDelta: (Number(c.cpuNanosecondsDelta) / 1e9).toFixed(1),
      })),
      teamLink: found.team ? `/teams/${encodeURIComponent(found.team)}` : null,
      serviceLink: `/services/${encodeURIComponent(found.service)}`,
      functionLink: `/functions/${encodeURIComponent(found.function)}`,
      flamegraph: `/flamegraphs/regressions/${encodeURIComponent(fingerprint)}`,
    };
  }

  /** The finding the differential flame graph of `/regressions/{fingerprint}` compares. */
  async finding(fingerprint: string): Promise<Finding> {
    const [found] = await this.regressions.list({ fingerprint });
    if (!found) throw new NotFoundException(`no regression "${fingerprint}"`);
    return found;
  }

  /** The services of a team with cost in the period (what its flame graph merges). */
  async teamServices(team: string, period: PagePeriod): Promise<string[]> {
    const rows = await this.costs.allRows({
      from: period.from,
      to: period.to,
      step: period.step,
      groupBy: 'service',
      scope: { kind: 'team', team },
    });
    return rows.rows.filter((r) => r.cost > 0n).map((r) => r.key);
  }

  private header(period: PagePeriod, info: PeriodInfo) {
    return {
      currency: this.currency,
      period: {
        ...period,
        partial: info.partial,
        through: info.through.toISOString(),
        fromIso: info.from.toISOString(),
        toIso: info.to.toISOString(),
        previousFromIso: info.previousFrom.toISOString(),
        previousToIso: info.previousTo.toISOString(),
      },
    };
  }

  private async labelBreakdowns(
    request: { from: Date; to: Date; step: PagePeriod['step'] },
    scope: { kind: 'team'; team: string } | { kind: 'service'; service: string },
  ) {
    const keys = this.settings.labels.keys;
    const answers = await Promise.all(
      keys.map((key) => this.costs.rows({ ...request, groupBy: `label:${key}`, scope, limit: TOP_LABELS })),
    );
    return keys.map((key, i) => {
      const answer = answers[i]!;
      return {
        key,
        rows: amountLines(answer.rows, answer.total.cost),
        more: answer.nextCursor !== null,
        csv: this.csvRaw({
          ...this.apiPeriodParams(request),
          groupBy: `label:${key}`,
          ...(scope.kind === 'team' ? { team: scope.team } : { service: scope.service }),
        }),
      };
    });
  }

  private async openRegressions(filter: { team?: string; service?: string }): Promise<RegressionLine[]> {
    const [open, reopened] = await Promise.all([
      this.regressions.list({ ...filter, state: 'open' }),
      this.regressions.list({ ...filter, state: 'reopened' }),
    ]);
    return [...open, ...reopened]
      .sort((a, b) => compareImpact(b.impactPerYearMicros, a.impactPerYearMicros))
      .map(regressionLine);
  }

  private trendTable(series: readonly { name: string; points: readonly { label: string; cost: bigint }[] }[]) {
    const labels = series[0]?.points.map((p) => p.label) ?? [];
    return {
      names: series.map((s) => s.name),
      rows: labels.map((label, i) => ({
        label,
        costs: series.map((s) => s.points[i]?.cost ?? 0n),
        total: series.reduce((sum, s) => sum + (s.points[i]?.cost ?? 0n), 0n),
      })),
    };
  }

  private serviceLink(service: string, period: PagePeriod): string {
    return `/services/${encodeURIComponent(service)}?${period.query}`;
  }

  private functionLink(name: string, period: PagePeriod): string {
    return `/functions/${encodeURIComponent(name)}?${period.query}`;
  }

  /** The finance API's CSV of a table (the pages' CSV links: the same rows, from the same service). */
  private csv(period: PagePeriod, params: Record<string, string>): string {
    return this.csvRaw({ ...this.apiPeriodParams(period), ...params });
  }

  private csvRaw(params: Record<string, string>): string {
    return `/api/v1/costs?${new URLSearchParams({ ...params, limit: String(CSV_ROWS), format: 'csv' }).toString()}`;
  }

  private apiPeriodParams(period: { from: Date; to: Date; step: string }): Record<string, string> {
    return { from: period.from.toISOString(), to: period.to.toISOString(), step: period.step };
  }

  private apiPeriod(period: PagePeriod): string {
    return new URLSearchParams(this.apiPeriodParams(period)).toString();
  }

  private async catalogTeams() {
    const current = this.catalog.current().current;
    const teams = current ? await this.catalogRows.teams(current.id) : [];
    return new Map(teams.map((t) => [t.team, t]));
  }

  private async catalogServices() {
    const current = this.catalog.current().current;
    const services = current ? await this.catalogRows.services(current.id) : [];
    return new Map(services.map((s) => [s.service, s]));
  }
}

function regressionLine(f: Finding): RegressionLine {
  return {
    fingerprint: f.fingerprint,
    service: f.service,
    team: f.team,
    function: f.function,
    kind: f.kind,
    state: f.state,
    impactPerYear: f.impactPerYearMicros,
    baseSharePct: (f.baseShare * 100).toFixed(2),
    currentSharePct: (f.currentShare * 100).toFixed(2),
    versions: f.baseVersion && f.currentVersion ? `${f.baseVersion} → ${f.currentVersion}` : null,
    firstSeen: f.firstSeenAt.toISOString(),
    ticketUrl: f.ticket?.url ?? null,
    ticketLabel: !f.ticket
      ? null
      : f.ticket.dryRun
        ? `${f.ticket.tracker} ${f.ticket.project} (dry run: not filed)`
        : `${f.ticket.tracker} ${f.ticket.project}#${f.ticket.remoteId}`,
  };
}

function window(from: Date, to: Date): string {
  return `${from.toISOString().slice(0, 16).replace('T', ' ')} – ${to.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function compareImpact(a: bigint | null, b: bigint | null): number {
  const x = a ?? -1n;
  const y = b ?? -1n;
  return x === y ? 0 : x < y ? -1 : 1;
}
