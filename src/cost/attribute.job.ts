import { Injectable } from '@nestjs/common';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { windowsCovering } from '../domain/pull/windows';
import { Job } from '../jobs/job.decorator';
import { workWindows, type JobContext, type JobOutcome, type JobRunner } from '../jobs/job-runner';
import { ProfileRepository } from '../profiles/profile.repository';
import { DataSource } from 'typeorm';
import { AttributeHandler } from './attribute.handler';
import { AttributionService, type AttributionBasis } from './attribution.service';

/** Attribute: the given range (after a price or catalog change), or every window marked dirty. */
@Job({
  name: 'attribute',
  description: 'attribute the windows changed by pushes or late data (or every window of --from/--to) into cost facts',
  defaultSchedule: '*/5 * * * *',
})
@Injectable()
export class AttributeJob implements JobRunner {
  readonly handlers: readonly AttributeHandler[];

  constructor(
    @InjectSettings() private readonly settings: Settings,
    private readonly profiles: ProfileRepository,
    private readonly attribution: AttributionService,
    private readonly db: DataSource,
    handler: AttributeHandler,
  ) {
    this.handlers = [handler];
  }

  async run(context: JobContext): Promise<JobOutcome> {
    const { from, to } = context.options;
    const range = from && to ? windowsCovering(from, to, this.settings.ingest.windowSeconds) : null;
    const windows = range ?? (await this.profiles.dirtyWindowRanges(this.settings.ingest.windowSeconds));
    // The items name the price schedule and catalog revision of this plan: whichever replica claims one computes with
    // them, so a backfill after a price change is priced as planned even where another replica's settings are older.
    const basis = await this.db.transaction((tx) => this.attribution.currentBasis(tx));
    const planned: AttributionBasis = {
      priceScheduleId: basis.priceSchedule.id,
      catalogRevisionId: basis.catalog?.id ?? null,
    };
    // A dirty window is skipped by the handler if another replica attributed it in the meantime.
    const payload = { onlyIfDirty: range === null, basis: planned };
    // Always again: a dirty window must be recomputed even if it was attributed before.
    return workWindows(context, 'attribute', windows, payload);
  }
}
