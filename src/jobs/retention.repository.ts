import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '../database/query-rows';
import type { RetentionSettings } from './jobs-settings';

const DAY_MS = 86_400_000;

/** Ages out stored profiles. Cost facts and rollups have their own retention next to their tables. */
@Injectable()
export class RetentionRepository {
  constructor(private readonly db: DataSource) {}

  /** Drops raw bytes past `rawProfileDays` and whole profiles past `profileDays`; returns what it removed. */
  async apply(settings: RetentionSettings, now: Date): Promise<Record<string, number>> {
    const rawBefore = new Date(now.getTime() - settings.rawProfileDays * DAY_MS);
    const profilesBefore = new Date(now.getTime() - settings.profileDays * DAY_MS);
    const raw = await queryRows<{ id: string }>(
      this.db,
      `UPDATE profiles SET raw = NULL WHERE window_start < $1 AND raw IS NOT NULL RETURNING id`,
      [rawBefore],
    );
    const removed = await queryRows<{ id: string }>(this.db, `DELETE FROM profiles WHERE window_start < $1 RETURNING id`, [profilesBefore]);
    const items = await queryRows<{ id: string }>(
      this.db,
      `DELETE FROM work_items WHERE status = 'done' AND finished_at < $1 RETURNING id`,
      [profilesBefore],
    );
    return { rawProfilesDropped: raw.length, profilesDeleted: removed.length, workItemsDeleted: items.length };
  }
}
