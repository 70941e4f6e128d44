import { Inject, Injectable } from '@nestjs/common';
import { CatalogRepository } from '../catalog/catalog.repository';
import { CatalogService } from '../catalog/catalog.service';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { priceScheduleOf } from '../cost/price-schedule';
import { formatScaled, PRICE_SCALE, type PriceEntry } from '../domain/cost';
import { API_CLOCK } from './auth/api-key.guard';

/** The catalog's revisions and the price schedule in force, as the API shows them. */
@Injectable()
export class CatalogApiService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly repository: CatalogRepository,
    @InjectSettings() private readonly settings: Settings,
    @Inject(API_CLOCK) private readonly clock: () => number,
  ) {}

  view() {
    return this.catalog.view();
  }

  async reload() {
    await this.catalog.reload();
    return this.catalog.view();
  }

  async revisions(limit: number) {
    const rows = await this.repository.revisions(limit);
    return {
      current: this.catalog.current().current?.id ?? null,
      revisions: rows.map((r) => ({
        id: r.id,
        revision: r.revision,
        status: r.status,
        sourceDir: r.sourceDir,
        loadedAt: r.loadedAt.toISOString(),
        lastLoadedAt: r.lastLoadedAt.toISOString(),
        files: r.files,
        errorCount: r.errors.length,
      })),
    };
  }

  /** The schedule of this process's settings (what attribution prices new windows with), each price marked in force or not. */
  prices() {
    const schedule = priceScheduleOf(this.settings);
    const now = this.clock();
    const inForce = new Set<string>();
    const latest = new Map<string, PriceEntry>();
    for (const p of this.settings.prices) {
      const where = p.scope.kind === 'default' ? 'default' : `${p.scope.kind}=${p.scope.value}`;
      const seen = latest.get(where);
      if (p.effectiveFromMs <= now && (!seen || p.effectiveFromMs > seen.effectiveFromMs)) latest.set(where, p);
    }
    for (const p of latest.values()) inForce.add(p.id);
    return {
      scheduleId: schedule.id,
      currency: schedule.currency,
      cost: (schedule.document as { cost: unknown }).cost,
      prices: this.settings.prices.map((p) => ({
        id: p.id,
        costPerCoreHour: formatScaled(p.nanosPerCoreHour, PRICE_SCALE),
        nanosPerCoreHour: p.nanosPerCoreHour.toString(),
        effectiveFrom: new Date(p.effectiveFromMs).toISOString(),
        scope: p.scope,
        inForce: inForce.has(p.id),
      })),
    };
  }
}
