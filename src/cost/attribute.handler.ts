import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ReadinessRegistry } from '../health/readiness.registry';
import type { WorkItem } from '../jobs/work-queue.repository';
import type { CommitWrites, WorkHandler } from '../jobs/work-runner';
import { ProfileRepository } from '../profiles/profile.repository';
import { PushCompactionService } from '../profiles/push-compaction.service';
import { AttributionService, type AttributionBasis } from './attribution.service';

/** Compaction rounds before attribution at most, and the pushes left for attribution to read that end them. */
const CATCH_UP_ROUNDS = 5;
const CAUGHT_UP_PUSHES = 200;

/** How long /readyz shows that this replica's price settings differ from a planned item's. */
const MISMATCH_SHOWN_MS = 3_600_000;

/**
 * Work items of job `attribute`: one window each ([windowStart, windowEnd)). The whole attribution runs in the
 * transaction that marks the item done, so the facts and the item's completion land together, or neither.
 */
@Injectable()
export class AttributeHandler implements WorkHandler, OnModuleInit, OnModuleDestroy {
  readonly job = 'attribute';
  private readonly logger = new Logger('Attribute');
  /** The last item planned with price settings other than this process's, for /readyz. */
  private mismatch: { priceScheduleId: string; at: Date } | null = null;

  constructor(
    private readonly attribution: AttributionService,
    private readonly readiness: ReadinessRegistry,
    private readonly compaction: PushCompactionService,
    private readonly profiles: ProfileRepository,
  ) {}

  onModuleInit(): void {
    this.readiness.register('prices', () =>
      this.mismatch && Date.now() - this.mismatch.at.getTime() < MISMATCH_SHOWN_MS
        ? {
            status: 'degraded',
            message: `this replica's price settings differ from ${this.mismatch.priceScheduleId}, which another replica planned attribution with (items are computed with the planned schedule); deploy the same settings everywhere`,
            since: this.mismatch.at.toISOString(),
          }
        : { status: 'up' },
    );
  }

  onModuleDestroy(): void {
    this.readiness.unregister('prices');
  }

  async handle(item: WorkItem, commit: CommitWrites, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const basis = item.payload.basis as AttributionBasis | undefined;
    if (basis && !this.attribution.isOwnPriceSchedule(basis.priceScheduleId)) {
      if (this.mismatch?.priceScheduleId !== basis.priceScheduleId) {
        this.logger.warn(
          `work item ${item.itemKey} was planned with price schedule ${basis.priceScheduleId}, not this replica's settings: computing with the planned schedule`,
        );
      }
      this.mismatch = { priceScheduleId: basis.priceScheduleId, at: new Date() };
    }
    // Merge the pushes since the last compaction first, outside the attribution's transaction: attribution then reads
    // one merge per group and the pushes of the last moments, and its transaction stays short. Again while a round found
    // many: pushes kept arriving while it merged (a round merges faster than they arrive).
    for (let round = 0; round < CATCH_UP_ROUNDS; round++) {
      const { pushes } = await this.compaction.compactWindow(item.windowStart, { signal, treeBudgetMs: 0 });
      if (pushes < CAUGHT_UP_PUSHES) break;
    }
    // How far every write into the window has committed, read on a connection of its own before the transaction.
    const committedThrough = await this.profiles.committedHighWater(item.windowStart);
    await commit(async (tx) => {
      // Queued because the window was dirty, but another replica attributed it since: every write committed
      // before that attribution is in its facts, and a write still in flight marks the window again.
      if (item.payload.onlyIfDirty === true && !(await this.profiles.isDirty(item.windowStart, tx))) return;
      const result = await this.attribution.attributeWindow(
        { start: item.windowStart, end: item.windowEnd },
        tx,
        basis,
        committedThrough,
      );
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
