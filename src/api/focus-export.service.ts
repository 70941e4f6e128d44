import { Injectable } from '@nestjs/common';
import { CatalogRepository } from '../catalog/catalog.repository';
import { CatalogService } from '../catalog/catalog.service';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { CostQueryService, type CostRow, type Scope } from '../cost/cost-query.service';
import { priceScheduleOf } from '../cost/price-schedule';
import { buckets, resolvePeriod, type Step, type TimeRange } from '../domain/cost';
import { resolvePrice } from '../domain/cost/price-resolver';
import { focusRow, type FocusRow } from '../domain/export/focus';
import type { Period } from './api-query';

const PAGE = 1000;

export interface FocusOptions {
  readonly service?: string;
  readonly perFunction?: boolean;
  /** One row per value of this label (its Tags carry `{key: value}`), the service's cost split as the label facts are. */
  readonly labelKey?: string;
}

/** Cost of a service that its label facts do not cover (label keys configured after the period was attributed). */
const NO_LABEL = '__none__';

interface ChargeContext {
  readonly systems: ReadonlyMap<string, string | null>;
  readonly samePricesIf: { readonly schedule: string; readonly byServiceOnly: boolean };
  readonly options: FocusOptions;
}
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

  /**
   * `service`: only that service's rows (no `__idle__`); `perFunction` (with `service`): one row per function of it,
   * its self cost, with the service's CPU time apportioned by cost (functions keep money only).
   */
  async *rows(period: Period & { readonly step: Step }, options: FocusOptions = {}): AsyncGenerator<FocusRow[]> {
    const current = this.catalog.current().current;
    const systems = new Map(
      (current ? await this.repository.services(current.id) : []).map((s) => [s.service, s.system]),
    );
    const schedule = priceScheduleOf(this.settings).id;
    // A price id can be told per service only from the settings' prices: exact when the period was priced with
    // this schedule and no price is scoped to a cluster or region (which the service name alone cannot tell).
    const byServiceOnly = this.settings.prices.every((p) => p.scope.kind === 'default' || p.scope.kind === 'service');
    const context: ChargeContext = { systems, samePricesIf: { schedule, byServiceOnly }, options };
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
  private async charge(charge: TimeRange, step: Step, context: ChargeContext): Promise<FocusRow[]> {
    const request = { from: new Date(charge.fromMs), to: new Date(charge.toMs), step };
    const { service, perFunction } = context.options;
    const scope: Scope = service === undefined ? { kind: 'org' } : { kind: 'service', service };
    const { labelKey } = context.options;
    const [services, teams, provenance, labels] = await Promise.all([
      this.costs.allRows({ ...request, groupBy: 'service', scope }).then((a) => a.rows),
      service === undefined ? this.costs.rows({ ...request, groupBy: 'team', limit: PAGE }) : null,
      this.costs.provenance({ ...request, scope, digestLimit: 1 }),
      labelKey === undefined ? null : this.costs.serviceLabelAmounts(request, labelKey),
    ]);
    const { schedule, byServiceOnly } = context.samePricesIf;
    const samePrices =
      provenance.priceScheduleIds.length === 1 && provenance.priceScheduleIds[0] === schedule && byServiceOnly;
    const idle = teams?.rows.find((r) => r.key === '__idle__');
    const lines = [...services, ...(idle ? [idle] : [])].filter((r) => r.cost !== 0n);
    const row = (
      r: CostRow,
      resource: string,
      fn?: string,
      cpuNanoseconds?: bigint,
      label?: Readonly<Record<string, string>>,
    ) =>
      focusRow(
        {
          periodStartMs: charge.fromMs,
          periodEndMs: charge.toMs,
          resource,
          ...(fn === undefined ? {} : { function: fn }),
          ...(label === undefined ? {} : { label }),
          team: resource === '__idle__' ? null : fn === undefined ? r.detail : (services[0]?.detail ?? null),
          system: context.systems.get(resource) ?? null,
          microunits: r.cost,
          cpuNanoseconds: resource === '__idle__' ? null : (cpuNanoseconds ?? r.cpuNanoseconds),
          priceId:
            samePrices && resource !== '__idle__'
              ? resolvePrice(this.settings.prices, { services: [resource] }, charge.fromMs).id
              : null,
          priceScheduleIds: provenance.priceScheduleIds,
          catalogRevisions: provenance.catalogRevisions,
        },
        this.settings.currency,
        this.settings.api.focus,
      );
    if (labels !== null && labelKey !== undefined)
      return lines.flatMap((r) => {
        if (r.key === '__idle__') return [row(r, r.key)];
        // The label facts split the service's cost exactly; what they do not cover (none, or label keys configured
        // after the period was attributed) is tagged __none__, so the rows still add up to the service's cost.
        const values = new Map(labels.get(r.key) ?? []);
        const covered = [...values.values()].reduce((sum, m) => sum + m, 0n);
        if (covered !== r.cost) values.set(NO_LABEL, (values.get(NO_LABEL) ?? 0n) + r.cost - covered);
        const cpu = r.cpuNanoseconds ?? 0n;
        return [...values]
          .filter(([, m]) => m !== 0n)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([value, m]) =>
            row({ ...r, cost: m }, r.key, undefined, r.cost === 0n ? 0n : (cpu * m) / r.cost, { [labelKey]: value }),
          );
      });
    const owner = services[0];
    if (!perFunction || service === undefined || !owner || owner.cost === 0n) return lines.map((r) => row(r, r.key));
    const { rows: functions } = await this.costs.allRows({ ...request, groupBy: 'function', scope });
    // Function facts keep money only: each function gets the service's CPU time in proportion to its cost.
    const cpu = owner.cpuNanoseconds ?? 0n;
    return functions.filter((f) => f.cost !== 0n).map((f) => row(f, service, f.key, (cpu * f.cost) / owner.cost));
  }
}
