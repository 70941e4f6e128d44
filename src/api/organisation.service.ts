import { Injectable } from '@nestjs/common';
import { CatalogRepository } from '../catalog/catalog.repository';
import { CatalogService } from '../catalog/catalog.service';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { CostQueryService } from '../cost/cost-query.service';
import { moneyJson } from '../domain/cost';
import { changeJson, coreHours, share } from '../domain/export/api-format';
import { ApiError } from './api-error';
import { periodJson, rowJson, totalJson, trendJson } from './api-json';
import type { Period } from './api-query';

/** Teams, services and functions: the catalog's facts about them with their cost of a period and its trend. */
@Injectable()
export class OrganisationService {
  constructor(
    private readonly costs: CostQueryService,
    private readonly catalog: CatalogService,
    private readonly repository: CatalogRepository,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** Every team of the catalog and every team with cost in the period (with `__unowned__` and `__idle__`): own cost, share. */
  async teams(period: Period) {
    const answer = await this.costs.allRows({ ...period, groupBy: 'team' });
    const rows = answer.rows;
    const teams = await this.catalogTeams();
    const byTeam = new Map(rows.map((r) => [r.key, r]));
    const names = [...new Set([...rows.map((r) => r.key), ...teams.keys()])];
    return {
      currency: this.settings.currency,
      period: periodJson(answer.period),
      catalogRevision: this.catalog.current().current?.revision ?? null,
      total: totalJson(answer),
      teams: names.map((team) => {
        const row = byTeam.get(team);
        const t = teams.get(team);
        return {
          team,
          kind: row?.detail ?? 'group',
          displayName: t?.displayName ?? null,
          email: t?.email ?? null,
          parentTeam: t?.parentTeam ?? null,
          cost: moneyJson(row?.cost ?? 0n),
          share: share(row?.cost ?? 0n, answer.total.cost),
          previous: moneyJson(row?.previous ?? 0n),
          change: changeJson(row?.change ?? { amount: 0n, percent: null }),
        };
      }),
    };
  }

  /** A team: its contacts and parent, its own cost of the period and the trend, and its services. */
  async team(team: string, period: Period) {
    const teams = await this.catalogTeams();
    // The team's own line only: the scoped answer has at most one row, not every team of the organisation.
    const answer = await this.costs.rows({ ...period, groupBy: 'team', scope: { kind: 'team', team }, limit: 1 });
    const row = answer.rows[0];
    const t = teams.get(team);
    if (!t && !row) throw new ApiError(404, `no team "${team}" in the catalog or in the costs of the period`, 'team');
    const [services, trend, catalogServices] = await Promise.all([
      this.costs.allRows({ ...period, groupBy: 'service', scope: { kind: 'team', team } }),
      this.costs.trend({ ...period, subject: { kind: 'team', team } }),
      this.catalogServices(),
    ]);
    return {
      currency: this.settings.currency,
      period: periodJson(answer.period),
      team,
      kind: row?.detail ?? 'group',
      displayName: t?.displayName ?? null,
      contacts: { email: t?.email ?? null },
      parentTeam: t?.parentTeam ?? null,
      childTeams: [...teams.values()].filter((c) => c.parentTeam === team).map((c) => c.team),
      cost: moneyJson(row?.cost ?? 0n),
      previous: moneyJson(row?.previous ?? 0n),
      change: changeJson(row?.change ?? { amount: 0n, percent: null }),
      services: services.rows.map((r) => ({
        ...rowJson(r, services.total.cost),
        system: catalogServices.get(r.key)?.system ?? null,
      })),
      trend: trendJson(trend.points),
    };
  }

  /** A service: owner, its cost, CPU time and trend, and its top functions by self cost. */
  async service(service: string, period: Period) {
    const [answer, trend, top, catalogServices] = await Promise.all([
      this.costs.rows({ ...period, groupBy: 'service', scope: { kind: 'service', service }, limit: 1 }),
      this.costs.trend({ ...period, subject: { kind: 'service', service } }),
      this.costs.topFunctions({ ...period, scope: { kind: 'service', service }, by: 'self', limit: 10 }),
      this.catalogServices(),
    ]);
    const row = answer.rows[0];
    const entry = catalogServices.get(service);
    if (!entry && !row)
      throw new ApiError(404, `no service "${service}" in the catalog or in the costs of the period`, 'service');
    return {
      currency: this.settings.currency,
      period: periodJson(answer.period),
      service,
      owner: entry?.team ?? row?.detail ?? null,
      system: entry?.system ?? null,
      inCatalog: entry !== undefined,
      cost: moneyJson(row?.cost ?? 0n),
      cpuNanoseconds: (row?.cpuNanoseconds ?? 0n).toString(),
      coreHours: coreHours(row?.cpuNanoseconds ?? 0n),
      previous: moneyJson(row?.previous ?? 0n),
      change: changeJson(row?.change ?? { amount: 0n, percent: null }),
      trend: trendJson(trend.points),
      topFunctions: top.rows.map((r) => rowJson(r, row?.cost ?? 0n)),
    };
  }

  /** A function: which services pay for it (self and inclusive), with shares of its total self cost. */
  async function(name: string, period: Period) {
    const answer = await this.costs.crossService({ ...period, function: name });
    if (answer.rows.length === 0)
      throw new ApiError(404, `no cost for function "${name}" in the period or the previous one`, 'name');
    return {
      currency: this.settings.currency,
      period: periodJson(answer.period),
      function: name,
      total: totalJson(answer),
      services: answer.rows.map((r) => rowJson(r, answer.total.cost)),
    };
  }

  private async catalogTeams() {
    const current = this.catalog.current().current;
    const teams = current ? await this.repository.teams(current.id) : [];
    return new Map(teams.map((t) => [t.team, t]));
  }

  private async catalogServices() {
    const current = this.catalog.current().current;
    const services = current ? await this.repository.services(current.id) : [];
    return new Map(services.map((s) => [s.service, s]));
  }
}
