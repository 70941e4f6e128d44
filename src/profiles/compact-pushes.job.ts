import { Injectable, Logger } from '@nestjs/common';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { windowsCovering } from '../domain/pull/windows';
import { Job } from '../jobs/job.decorator';
import { workWindows, type JobContext, type JobOutcome, type JobRunner } from '../jobs/job-runner';
import type { WorkItem } from '../jobs/work-queue.repository';
import type { CommitWrites, WorkHandler } from '../jobs/work-runner';
import { ProfileRepository } from './profile.repository';
import { PushCompactionService } from './push-compaction.service';

/** Time a work item spends building trees before it leaves the rest to the next run (folds are never held back). */
const TREE_BUDGET_MS = 20_000;

/**
 * Merges the pushes of every window changed since its last attribution into their groups' merges, every 30 s by
 * default (about 830 pushes of a 1,000-process fleet), so that attribution finds only the last seconds' pushes to
 * read, and the merged call trees of the same pushes beside them, so that the profile-trees job builds only the pushes
since. One work item per window; an item's merges are each stored in their own statement, guarded by the merge they
 * started from (`PushCompactionService`), so a crash loses at most the step in flight and two replicas never merge a
 * push twice.
 */
@Job({
  name: 'compact-pushes',
  description: 'merge the pushes of windows changed since their attribution into one merge per push group',
  defaultSchedule: '*/30 * * * * *',
  quiet: true,
})
@Injectable()
export class CompactPushesJob implements JobRunner, WorkHandler {
  readonly job = 'compact-pushes';
  readonly handlers = [this];
  private readonly logger = new Logger('CompactPushes');

  constructor(
    @InjectSettings() private readonly settings: Settings,
    private readonly profiles: ProfileRepository,
    private readonly compaction: PushCompactionService,
  ) {}

  async run(context: JobContext): Promise<JobOutcome> {
    const { from, to } = context.options;
    const seconds = this.settings.ingest.windowSeconds;
    const windows = from && to ? windowsCovering(from, to, seconds) : await this.profiles.dirtyWindowRanges(seconds);
    // Always again: a window keeps receiving pushes after its item is done.
    return workWindows(context, this.job, windows);
  }

  /** Stores its merges step by step (each guarded), not through `commit`: the runner then completes the item. */
  async handle(item: WorkItem, _commit: CommitWrites, signal: AbortSignal): Promise<void> {
    const result = await this.compaction.compactWindow(item.windowStart, { signal, treeBudgetMs: TREE_BUDGET_MS });
    if (result.pushes > 0) this.logger.debug({ window: item.windowStart.toISOString(), ...result }, 'pushes merged');
  }
}
