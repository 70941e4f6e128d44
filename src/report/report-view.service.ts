import { Injectable } from '@nestjs/common';
import { CatalogRepository } from '../catalog/catalog.repository';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { CostQueryService } from '../cost/cost-query.service';
import {
  buildOrgReport,
  buildTeamReport,
  weeksEndingWith,
  type IsoWeek,
  type OrgReportView,
  type RegressionLine,
  type TeamReportView,
} from '../domain/report';

/** One team as the report sees it: its name, its catalog address (if any) and its services. */
export interface ReportTeam {
  readonly team: string;
  readonly email: string | null;
  readonly services: readonly string[];
}

/** Where open, new and resolved regressions come from; absent until the regressions module provides it. */
export interface RegressionsSource {
  forTeam(team: string, week: IsoWeek): Promise<readonly RegressionLine[] | null>;
}

export const REGRESSIONS_SOURCE = Symbol('flamebill.report.regressionsSource');

/**
 * Builds the weekly reports' view models from the cost query service's answers (and the catalog's teams): the
 * figures the email shows are the ones the API and the dashboard show for the same week. Computes nothing itself.
 */
@Injectable()
export class ReportViewService {
  constructor(
    private readonly costs: CostQueryService,
    private readonly catalog: CatalogRepository,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** Teams of the catalog revision in force, with their addresses and services. */
  async teams(): Promise<ReportTeam[]> {
    const current = await this.catalog.currentGood();
    if (!current) return [];
    const [teams, services] = await Promise.all([this.catalog.teams(current.id), this.catalog.services(current.id)]);
    return teams.map((t) => ({
      team: t.team,
      email: t.email,
      services: services.filter((s) => s.team === t.team).map((s) => s.service),
    }));
  }

  async teamReport(
    team: ReportTeam,
    week: IsoWeek,
    regressions: readonly RegressionLine[] | null,
  ): Promise<TeamReportView> {
    const period = this.period(week);
    const scope = { kind: 'team' as const, team: team.team };
    const [services, topSelf, topInclusive, trend, unowned] = await Promise.all([
      this.costs.allRows({ ...period, groupBy: 'service', scope }),
      this.costs.topFunctions({ ...period, scope, by: 'self', limit: 10 }),
      this.costs.topFunctions({ ...period, scope, by: 'inclusive', limit: 10 }),
      this.trend(week, scope),
      this.costs.allRows({ ...period, groupBy: 'service', scope: { kind: 'team', team: '__unowned__' } }),
    ]);
    return buildTeamReport({
      week,
      partial: services.period.partial,
      currency: this.settings.currency,
      team: team.team,
      total: services.total,
      trend,
      services: services.rows,
      topSelf: topSelf.rows,
      topInclusive: topInclusive.rows,
      regressions,
      unownedServices: unowned.rows.filter((r) => mayBelongTo(r.key, team.services)),
      // The page opens on the week the email reports (the dashboard's period picker reads `week=`).
      dashboardUrl: this.dashboardUrl(`/teams/${encodeURIComponent(team.team)}?week=${week.label}`),
    });
  }

  async orgReport(week: IsoWeek, undelivered: OrgReportView['undelivered']): Promise<OrgReportView> {
    const period = this.period(week);
    const [teams, functions, trend, books] = await Promise.all([
      this.costs.allRows({ ...period, groupBy: 'team' }),
      this.costs.topFunctions({ ...period, scope: { kind: 'org' }, by: 'self', limit: 10 }),
      this.trend(week, { kind: 'org' }),
      this.costs.books({ ...period }),
    ]);
    const line = books.lines[books.lines.length - 1]!;
    return buildOrgReport({
      week,
      partial: teams.period.partial,
      currency: this.settings.currency,
      total: teams.total,
      trend,
      teams: teams.rows,
      crossServiceFunctions: functions.rows,
      books: {
        functionsSelf: line.functionsSelf,
        services: line.services,
        teams: line.teams,
        unowned: line.unowned,
        idle: line.idle,
        total: line.total,
        difference: line.differences.teamsVsTotal,
      },
      undelivered,
      dashboardUrl: this.dashboardUrl(`/?week=${week.label}`),
    });
  }

  private period(week: IsoWeek) {
    return { from: new Date(week.fromMs), to: new Date(week.toMs), step: 'week' as const };
  }

  private async trend(week: IsoWeek, subject: Parameters<CostQueryService['trend']>[0]['subject']) {
    const weeks = weeksEndingWith(week, 12);
    const answer = await this.costs.trend({
      from: new Date(weeks[0]!.fromMs),
      to: new Date(week.toMs),
      step: 'week',
      subject,
    });
    return answer.points.map((p) => ({ label: p.label, cost: p.cost }));
  }

  private dashboardUrl(path: string): string | null {
    const base = this.settings.report.dashboardUrl;
    return base ? `${base.replace(/\/+$/, '')}${path}` : null;
  }
}

/**
 * An unowned service that may be the team's: its name starts with the first word of one of the team's services
 * (`checkout-canary` for a team owning `checkout`), a guess worth a look, not an attribution.
 */
export function mayBelongTo(unowned: string, services: readonly string[]): boolean {
  const word = (name: string): string => name.toLowerCase().split(/[-_.]/)[0] ?? name;
  return services.some((s) => word(s).length >= 3 && word(unowned) === word(s));
}
