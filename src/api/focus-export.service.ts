import { Injectable } from '@nestjs/common';
import { CatalogRepository } from '../catalog/catalog.repository';
import { CatalogService } from '../catalog/catalog.service';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { CostQueryService, type CostRow } from '../cost/cost-query.service';
import { priceScheduleOf } from '../cost/price-schedule';
import { buckets, resolvePeriod, type Step } from '../domain/cost';
import { resolvePrice } from '../domain/cost/price-resolver';
import { focusRow, type FocusRow } from '../domain/export/focus';
import type { Period } from './api-query';

const PAGE = 1000;

/**
 * The FOCUS rows of a period, one charge period (day or hour) at a time, as an async iterator: the caller writes each
 * batch before the next is read, so memory holds one charge period (≤ the catalog's services), whatever the length.
 */
@Injectable()
export class FocusExportService {
  constructor(
    private readonly costs: CostQueryService,
    private readonly catalog: CatalogService,
    private readonly repository: CatalogRepository,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** Validates the period (the ends aligned to the granularity) before anything is sent. */
  check(period: Period, nowMs: number): void {
    resolvePeriod({ fromMs: period.from.getTime(), toMs: period.to.getTime(), step: period.step }, nowMs, 100_000);
  }

  async *rows(period: Period & { readonly step: Step }): AsyncGenerator<FocusRow[]> {
    const current = this.catalog.current().current;
    const systems = new Map((current ? await this.repository.services(current.id) : []).map((s) => [s.service, s.system]));
    const schedule = priceScheduleOf(this.settings).id;
    // A price id can be told per service only from the settings' prices: exact when the period was priced with
    // this schedule and no price is scoped to a cluster or region (which the service name alone cannot tell).
    const byServiceOnly = this.settings.prices.every((p) => p.scope.kind === 'default' || p.scope.kind === 'service');
    for (const charge of buckets({ fromMs: period.from.getTime(), toMs: period.to.getTime() }, period.step)) {
      const request = { from: new Date(charge.fromMs), to: new Date(charge.toMs), step: period.step };
      const [services, teams, provenance] = await Promise.all([
        this.allServices(request),
        this.costs.rows({ ...request, groupBy: 'team', limit: PAGE }),
        this.costs.provenance({ ...request, digestLimit: 1 }),
      ]);
      const samePrices = provenance.priceScheduleIds.length === 1 && provenance.priceScheduleIds[0] === schedule && byServiceOnly;
      const idle = teams.rows.find((r) => r.key === '__idle__');
      const lines = [...services, ...(idle ? [idle] : [])].filter((r) => r.cost !== 0n);
      yield lines.map((r) =>
        focusRow(
          {
            periodStartMs: charge.fromMs,
            periodEndMs: charge.toMs,
            resource: r.key,
            team: r.key === '__idle__' ? null : r.detail,
            system: systems.get(r.key) ?? null,
            microunits: r.cost,
            cpuNanoseconds: r.key === '__idle__' ? null : r.cpuNanoseconds,
            priceId: samePrices && r.key !== '__idle__' ? resolvePrice(this.settings.prices, { services: [r.key] }, charge.fromMs).id : null,
            priceScheduleIds: provenance.priceScheduleIds,
            catalogRevisions: provenance.catalogRevisions,
          },
          this.settings.currency,
          this.settings.api.focus,
        ),
      );
    }
  }

  private async allServices(request: Period): Promise<CostRow[]> {
    let answer = await this.costs.rows({ ...request, groupBy: 'service', limit: PAGE });
    const rows = [...answer.rows];
    while (answer.nextCursor) {
      answer = await this.costs.rows({ ...request, groupBy: 'service', limit: PAGE, cursor: answer.nextCursor });
      rows.push(...answer.rows);
    }
    return rows;
  }
}
