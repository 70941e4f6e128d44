import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { CostQueryService } from '../cost/cost-query.service';
import { DAY_MS, floorToStep, type Step } from '../domain/cost';
import { MetricsService } from '../metrics/metrics.service';
import { API_CLOCK } from './auth/api-key.guard';

/** Scrapes within this long of the last computation reuse it: a scrape every 15 s must not query every time. */
const CACHE_MS = 60_000;

interface Snapshot {
  /** The instant the periods were taken from. */
  readonly atMs: number;
  /** When it was computed (API clock): the cache's age. */
  readonly computedAtMs: number;
  readonly services: ReadonlyArray<{ period: Step; service: string; team: string; microdollars: bigint }>;
  readonly teams: ReadonlyArray<{ period: Step; team: string; microdollars: bigint }>;
}

/**
 * Cost gauges on /metrics for Grafana: the last complete hour and UTC day per service
 * (`flamebill_cost_microdollars{period,team,service}`) and per team with `__unowned__` and `__idle__`
 * (`flamebill_team_cost_microdollars{period,team}`). Cardinality is bounded by the services in the cost facts (the
 * catalog's, plus unowned ones). Values come from the cost query service, like every other publisher's.
 */
@Injectable()
export class CostMetricsService implements OnModuleInit {
  private readonly logger = new Logger('CostMetrics');
  private snapshot: Promise<Snapshot | null> = Promise.resolve(null);

  constructor(
    private readonly costs: CostQueryService,
    private readonly metrics: MetricsService,
    @Inject(API_CLOCK) private readonly clock: () => number,
  ) {}

  onModuleInit(): void {
    const current = (): Promise<Snapshot> => this.current();
    new Gauge({
      name: 'flamebill_cost_microdollars',
      help: 'Cost of a service in the last complete hour or UTC day, in micro-units of the currency (team: the owning team).',
      labelNames: ['period', 'team', 'service'] as const,
      registers: [this.metrics.registry],
      async collect() {
        const snapshot = await current();
        this.reset();
        for (const s of snapshot.services)
          this.set({ period: s.period, team: s.team, service: s.service }, Number(s.microdollars));
      },
    });
    new Gauge({
      name: 'flamebill_team_cost_microdollars',
      help: "A team's own cost in the last complete hour or UTC day, in micro-units of the currency, with __unowned__ and __idle__.",
      labelNames: ['period', 'team'] as const,
      registers: [this.metrics.registry],
      async collect() {
        const snapshot = await current();
        this.reset();
        for (const t of snapshot.teams) this.set({ period: t.period, team: t.team }, Number(t.microdollars));
      },
    });
  }

  /**
   * The figures as of now, computed at most once a minute. When the database cannot answer, the scrape still
   * succeeds (process and HTTP metrics matter most then) with no cost series, and the next scrape tries again.
   */
  async current(): Promise<Snapshot> {
    const cached = await this.snapshot;
    const now = this.clock();
    if (cached && now - cached.computedAtMs < CACHE_MS && now >= cached.computedAtMs) return cached;
    try {
      return await this.refresh(now);
    } catch (error) {
      this.logger.warn(`cost gauges left empty: ${error instanceof Error ? error.message : String(error)}`);
      return { atMs: now, computedAtMs: 0, services: [], teams: [] };
    }
  }

  /** Computes the figures of the hour and day before `nowMs` (scrapes in the next minute show them). */
  refresh(nowMs: number): Promise<Snapshot> {
    const next = this.compute(nowMs);
    this.snapshot = next.catch(() => null);
    return next;
  }

  private async compute(nowMs: number): Promise<Snapshot> {
    const hour = floorToStep(nowMs, 'hour');
    const day = floorToStep(nowMs, 'day');
    const periods: Array<[Step, number, number]> = [
      ['hour', hour - 3_600_000, hour],
      ['day', day - DAY_MS, day],
    ];
    const services: Array<Snapshot['services'][number]> = [];
    const teams: Array<Snapshot['teams'][number]> = [];
    for (const [period, from, to] of periods) {
      const request = { from: new Date(from), to: new Date(to), step: period };
      for (const r of (await this.costs.allRows({ ...request, groupBy: 'service' })).rows)
        services.push({ period, service: r.key, team: r.detail ?? '', microdollars: r.cost });
      for (const r of (await this.costs.allRows({ ...request, groupBy: 'team' })).rows)
        teams.push({ period, team: r.key, microdollars: r.cost });
    }
    return { atMs: nowMs, computedAtMs: this.clock(), services, teams };
  }
}
