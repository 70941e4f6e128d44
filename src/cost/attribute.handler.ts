import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { queryRows } from '../database/query-rows';
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
      // Queued because the window was dirty, but another replica attributed it since: every write committed
      // before that attribution is in its facts, and a write still in flight marks the window again.
      if (item.payload.onlyIfDirty === true && !(await isDirty(tx, item.windowStart))) return;
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

async function isDirty(tx: EntityManager, windowStart: Date): Promise<boolean> {
  const rows = await queryRows<{ dirty: boolean }>(tx, 'SELECT EXISTS (SELECT 1 FROM dirty_windows WHERE window_start = $1) AS dirty', [windowStart]);
  return rows[0]?.dirty === true;
}
