import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { lastCompleteWindow, windowsCovering } from '../domain/pull/windows';
import { Job } from '../jobs/job.decorator';
import type { JobContext, JobOutcome, JobRunner } from '../jobs/job-runner';
import type { ProfileSource } from '../sources';
import { PullHandler } from './pull.handler';
import { planPullItems } from './pull.planner';

/** Injection token of the configured sources (`sources` settings), built once per process. */
export const PULL_SOURCES = Symbol('flamebill.pullSources');

/** Pull: list every source's services per window, fetch and store each, then attribute what changed. */
@Job({
  name: 'pull',
  description:
    'fetch profiles from every configured source for the last complete window (or --from/--to), then attribute what changed',
  defaultSchedule: '5 * * * *',
})
@Injectable()
export class PullJob implements JobRunner {
  private readonly logger = new Logger('Pull');
  readonly handlers: readonly PullHandler[];

  constructor(
    @InjectSettings() private readonly settings: Settings,
    @Inject(PULL_SOURCES) private readonly sources: readonly ProfileSource[],
    handler: PullHandler,
  ) {
    this.handlers = [handler];
  }

  async run(context: JobContext): Promise<JobOutcome> {
    if (this.sources.length === 0) return { status: 'skipped', counts: { sources: 0 }, errors: [] };
    const { from, to } = context.options;
    const windowSeconds = this.settings.ingest.windowSeconds;
    const windows =
      from && to ? windowsCovering(from, to, windowSeconds) : [lastCompleteWindow(new Date(), windowSeconds)];
    const planned = await planPullItems(this.sources, windows, context.signal);
    for (const error of planned.errors) this.logger.warn(error);
    const settled = await context.work(planned.items);
    // Attributes the windows this pull marked dirty (and any others that are).
    const attributed = await context.run('attribute');
    const errors = [...planned.errors, ...settled.errors, ...attributed.errors];
    return {
      status: errors.length > 0 ? 'failed' : 'succeeded',
      counts: {
        windows: windows.length,
        sources: this.sources.length,
        items: planned.items.length,
        ...settled.counts,
        attributedWindows: attributed.counts.windows ?? 0,
      },
      errors,
    };
  }
}
