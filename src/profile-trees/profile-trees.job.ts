import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AttributionRepository } from '../cost/attribution.repository';
import { Job } from '../jobs/job.decorator';
import { workWindows, type JobContext, type JobOutcome, type JobRunner } from '../jobs/job-runner';
import type { WorkItem } from '../jobs/work-queue.repository';
import type { CommitWrites, WorkHandler } from '../jobs/work-runner';
import { ProfileRepository } from '../profiles/profile.repository';
import { ProfileTreeService } from './profile-tree.service';

/** How far back a scheduled run looks for attributed windows whose profiles changed since their trees were built. */
export const TREE_LOOKBACK_MS = 48 * 3_600_000;

/**
 * Builds the merged call trees of attributed windows beside attribution, not inside it: a tree is built from the raw
 * profiles (hundreds of times the work of a fold on label-heavy profiles), so attribution keeps its own speed and a
 * window is built once it is closed rather than at every push. One work item per closed window; a window whose
 * services' profiles did not change since its trees were built costs a listing and writes nothing.
 */
@Job({
  name: 'profile-trees',
  description:
    'build the merged call trees (flame graphs, diffs, PGO) of attributed windows that closed in the last 48 h (or of --from/--to)',
  defaultSchedule: '*/10 * * * *',
})
@Injectable()
export class ProfileTreesJob implements JobRunner, WorkHandler {
  readonly job = 'profile-trees';
  readonly handlers = [this];
  private readonly logger = new Logger('ProfileTrees');

  constructor(
    private readonly db: DataSource,
    private readonly attribution: AttributionRepository,
    private readonly profiles: ProfileRepository,
    private readonly trees: ProfileTreeService,
  ) {}

  async run(context: JobContext): Promise<JobOutcome> {
    const now = Date.now();
    const from = context.options.from ?? new Date(now - TREE_LOOKBACK_MS);
    const to = context.options.to ?? new Date(now);
    const windows = (await this.attribution.attributedWindows(this.db, from, to)).filter((w) => w.end.getTime() <= now);
    // Always again: the check whether a window's profiles changed is the item's own, and it is cheap.
    return workWindows(context, 'profile-trees', windows);
  }

  async handle(item: WorkItem, commit: CommitWrites): Promise<void> {
    await commit(async (tx) => {
      const services = await this.attribution.attributedServices(tx, item.windowStart);
      const stored = await this.profiles.listWindowHeaders(item.windowStart, tx);
      const result = await this.trees.windowAttributed(tx, item.windowStart, stored, services);
      if (result.changedServices > 0) {
        this.logger.log({ window: item.windowStart.toISOString(), ...result }, 'window trees built');
      }
    });
  }
}
