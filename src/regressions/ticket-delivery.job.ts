import { Injectable } from '@nestjs/common';
import { Job } from '../jobs/job.decorator';
import type { JobContext, JobOutcome, JobRunner } from '../jobs/job-runner';
import { TicketDeliveryService } from './ticket-delivery.service';

/** Sends the regression outbox to the trackers; also run at the end of every `regressions` scan. */
@Job({
  name: 'ticket-delivery',
  description: "send queued regression tickets, comments, closes and reopens to the owning teams' trackers",
  defaultSchedule: '*/10 * * * *',
})
@Injectable()
export class TicketDeliveryJob implements JobRunner {
  constructor(private readonly delivery: TicketDeliveryService) {}

  async run(context: JobContext): Promise<JobOutcome> {
    const { counts, errors } = await this.delivery.deliver({ ...(context.options.dryRun ? { dryRun: true } : {}) });
    return { status: errors.length > 0 ? 'failed' : 'succeeded', counts: { ...counts }, errors };
  }
}
