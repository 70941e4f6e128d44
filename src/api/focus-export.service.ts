import { Injectable } from '@nestjs/common';
import { CatalogRepository } from '../catalog/catalog.repository';
import { CatalogService } from '../catalog/catalog.service';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { CostQueryService, type CostRow } from '../cost/cost-query.service';
import { priceScheduleOf } from '../cost/price-schedule';
import { buckets, resolvePeriod, type Step, type TimeRange } from '../domain/cost';
import { resolvePrice } from '../domain/cost/price-resolver';
import { focusRow, type FocusRow } from '../domain/export/focus';
import type { Period } from './api-query';

const PAGE = 1000;
/** Charge periods read ahead of the one being written. */
const PREFETCH = 2;

/**
 * The FOCUS rows of a period, one charge period (day or hour) at a time, as an async iterator: the caller writes each
 * batch, while the next two are read, so memory holds three charge periods (≤ the catalog's services each), whatever
 * the length.
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
    const context = { systems, samePricesIf: { schedule, byServiceOnly } };
    const charges = buckets({ fromMs: period.from.getTime(), toMs: period.to.getTime() }, period.step);
    // The next charge periods are read while this one is written (the database is the bottleneck, not the socket):
    // memory holds at most PREFETCH + 1 charge periods.
    const pending: Array<Promise<FocusRow[]>> = [];
    for (let i = 0; i < charges.length; i++) {
      while (pending.length <= PREFETCH && i + pending.length < charges.length) {
        const next = this.charge(charges[i + pending.length] as TimeRange, period.step, context);
        next.catch(() => undefined); // awaited in turn below; a consumer that stops early must not leave it unhandled
        pending.push(next);
      }
      yield await (pending.shift() as Promise<FocusRow[]>);
    }
  }

  /** The rows of one charge period. */
  private async charge(charge: TimeRange, step: Step, context: { systems: ReadonlyMap<string, string | null>; samePricesIf: { schedule: string; byServiceOnly: boolean } }): Promise<FocusRow[]> {
    const request = { from: new Date(charge.fromMs), to: new Date(charge.toMs), step };
    const [services, teams, provenance] = await Promise.all([
      this.allServices(request),
      this.costs.rows({ ...request, groupBy: 'team', limit: PAGE }),
      this.costs.provenance({ ...request, digestLimit: 1 }),
    ]);
    const { schedule, byServiceOnly } = context.samePricesIf;
    const samePrices = provenance.priceScheduleIds.length === 1 && provenance.priceScheduleIds[0] === schedule && byServiceOnly;
    const idle = teams.rows.find((r) => r.key === '__idle__');
    const lines = [...services, ...(idle ? [idle] : [])].filter((r) => r.cost !== 0n);
    return lines.map((r) =>
      focusRow(
        {
          periodStartMs: charge.fromMs,
          periodEndMs: charge.toMs,
          resource: r.key,
          team: r.key === '__idle__' ? null : r.detail,
          system: context.systems.get(r.key) ?? null,
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
