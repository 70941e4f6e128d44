import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AttributionRepository } from '../cost/attribution.repository';
import { queryRows } from '../database/query-rows';
import type { RetentionSettings } from './jobs-settings';

const DAY_MS = 86_400_000;

/**
 * Ages out stored data: raw profile bytes, folded profiles, finished work items, and cost facts by month
 * partition (hourly facts and daily function facts; daily service and team rollups are kept forever).
 */
@Injectable()
export class RetentionRepository {
  private readonly facts = new AttributionRepository();

  constructor(private readonly db: DataSource) {}

  /** Applies every retention period at `now`; returns what it removed. */
  async apply(settings: RetentionSettings, now: Date): Promise<Record<string, number>> {
    const before = (days: number): Date => new Date(now.getTime() - days * DAY_MS);
    const raw = await queryRows<{ id: string }>(
      this.db,
      `UPDATE profiles SET raw = NULL WHERE window_start < $1 AND raw IS NOT NULL RETURNING id`,
      [before(settings.rawProfileDays)],
    );
    const removed = await queryRows<{ id: string }>(this.db, `DELETE FROM profiles WHERE window_start < $1 RETURNING id`, [before(settings.profileDays)]);
    const items = await queryRows<{ id: string }>(
      this.db,
      `DELETE FROM work_items WHERE status = 'done' AND finished_at < $1 RETURNING id`,
      [before(settings.profileDays)],
    );
    const partitions = await this.db.transaction(async (tx) => [
      ...(await this.facts.dropHourlyMonthsBefore(tx, before(settings.factDays))),
      ...(await this.facts.dropFunctionDayMonthsBefore(tx, before(settings.factDays))),
    ]);
    return {
      rawProfilesDropped: raw.length,
      profilesDeleted: removed.length,
      workItemsDeleted: items.length,
      factPartitionsDropped: partitions.length,
    };
  }
}
