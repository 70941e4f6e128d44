import { Injectable, Logger } from '@nestjs/common';
import type { WorkItem } from '../jobs/work-queue.repository';
import type { CommitWrites, WorkHandler } from '../jobs/work-runner';
import { AttributionService } from './attribution.service';

/**
 * Work items of job `attribute`: one window each ([windowStart, windowEnd)). The whole attribution runs in the
 * transaction that marks the item done, so the facts and the item's completion land together, or neither.
 */
@Injectable()
export class AttributeHandler implements WorkHandler {
  readonly job = 'attribute';
  private readonly logger = new Logger('Attribute');

  constructor(private readonly attribution: AttributionService) {}

  async handle(item: WorkItem, commit: CommitWrites, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await commit(async (tx) => {
      const result = await this.attribution.attributeWindow({ start: item.windowStart, end: item.windowEnd }, tx);
      this.logger.log(
        {
          window: item.windowStart.toISOString(),
          profiles: result.profiles,
          services: result.services,
          functionDayChanges: result.functionDayChanges,
          totalMicrodollars: result.totalMicrodollars.toString(),
          catalogRevision: result.catalogRevision,
          priceSchedule: result.priceScheduleId,
        },
        'window attributed',
      );
    });
  }
}
