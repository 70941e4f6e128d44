import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { AttributionRepository } from '../cost/attribution.repository';
import { CostQueryRepository } from '../cost/cost-query.repository';
import { Job } from '../jobs/job.decorator';
import type { JobContext, JobOutcome, JobRunner } from '../jobs/job-runner';
import { WorkQueueRepository } from '../jobs/work-queue.repository';
import { ProfileTreeRepository } from '../profile-trees/profile-tree.repository';
import { ProfileRepository } from '../profiles/profile.repository';
import { AuditRepository } from '../api/audit/audit.repository';
import { JobRequestRepository } from '../jobs/job-request.repository';
import { JobRunRepository } from '../jobs/job-run.repository';

const DAY_MS = 86_400_000;

/**
 * Ages out stored data by asking each table's owner: raw profile bytes and folded profiles (profiles), merged call
 * trees (profile trees, kept as long as the profiles), finished work
 * items (the queue), and cost facts by month partition (hourly facts and daily function facts; daily service and
 * team rollups are kept forever).
 */
@Job({
  name: 'retention',
  description:
    'drop raw profiles, profiles, finished work items, old cost facts, audit rows and job requests past their retention',
  defaultSchedule: '30 3 * * *',
})
@Injectable()
export class RetentionJob implements JobRunner {
  constructor(
    private readonly db: DataSource,
    @InjectSettings() private readonly settings: Settings,
    private readonly profiles: ProfileRepository,
    private readonly queue: WorkQueueRepository,
    private readonly facts: AttributionRepository,
    private readonly queries: CostQueryRepository,
    private readonly trees: ProfileTreeRepository,
    private readonly audit: AuditRepository,
    private readonly jobRequests: JobRequestRepository,
    private readonly jobRuns: JobRunRepository,
  ) {}

  async run(_context: JobContext): Promise<JobOutcome> {
    return { status: 'succeeded', counts: await this.apply(new Date()), errors: [] };
  }

  /** Applies every retention period at `now`; returns what it removed. */
  async apply(now: Date, retention: Settings['retention'] = this.settings.retention): Promise<Record<string, number>> {
    const before = (days: number): Date => new Date(now.getTime() - days * DAY_MS);
    const rawProfilesDropped = await this.profiles.dropRawBefore(before(retention.rawProfileDays));
    const profilesDeleted = await this.profiles.deleteBefore(before(retention.profileDays));
    // Merged call trees are kept as long as the profiles they were built from.
    const trees = await this.trees.deleteBefore(before(retention.profileDays));
    const workItemsDeleted = await this.queue.deleteDoneBefore(before(retention.profileDays));
    const partitions = await this.db.transaction(async (tx) => [
      ...(await this.facts.dropHourlyMonthsBefore(tx, before(retention.factDays))),
      ...(await this.facts.dropFunctionDayMonthsBefore(tx, before(retention.factDays))),
    ]);
    // Daily function facts go by whole months: the read-side copies of the days whose facts are gone go with them.
    const monthStart = new Date(
      Date.UTC(before(retention.factDays).getUTCFullYear(), before(retention.factDays).getUTCMonth(), 1),
    );
    const serviceDayCopiesDeleted = await this.queries.deleteServiceDaysBefore(monthStart);
    return {
      rawProfilesDropped,
      profilesDeleted,
      windowTreesDeleted: trees.windows,
      dayTreesDeleted: trees.days,
      workItemsDeleted,
      auditRowsDeleted: await this.audit.deleteBefore(before(retention.auditDays)),
      jobRequestsDeleted: await this.jobRequests.deleteFinishedBefore(before(retention.auditDays)),
      // compact-pushes alone runs every 30 s: 2,880 runs a day. Run history is kept like the work items.
      jobRunsDeleted: await this.jobRuns.deleteFinishedBefore(before(retention.profileDays)),
      factPartitionsDropped: partitions.length,
      serviceDayCopiesDeleted,
    };
  }
}
