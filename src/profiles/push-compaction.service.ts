import { Injectable } from '@nestjs/common';
import { ProfileRepository } from './profile.repository';
import { mergeGroup, pushMergeOf } from './push-merge';

/** Pushes merged per step and transaction: bounds the folds held at once, whatever a group's backlog. */
export const COMPACT_STEP_PUSHES = 500;

/** What compacting one window did, for logs and tests. */
export interface WindowCompaction {
  /** Push groups whose merge moved forward. */
  readonly groups: number;
  /** Pushes added to merges. */
  readonly pushes: number;
  /** Groups left as they were because their merge moved meanwhile (attribution or another replica). */
  readonly raced: number;
}

/**
 * Keeps each push group's merge (`profile_push_merges`) close to its window's pushes between attributions, so that
 * attribution (and tree building) read one merge per group plus the few pushes since. Never holds the window's lock
 * while merging: it only reads, under that lock, how far the window's pushes have all committed; it then merges
 * them into the group's merge and stores the result only if the merge is still the one it started from.
 */
@Injectable()
export class PushCompactionService {
  constructor(private readonly profiles: ProfileRepository) {}

  /**
   * Merges the pushes of `windowStart` that committed before this call into their groups' merges, at most `step`
   * pushes per stored merge.
   */
  async compactWindow(
    windowStart: Date,
    { signal, step = COMPACT_STEP_PUSHES }: { signal?: AbortSignal; step?: number } = {},
  ): Promise<WindowCompaction> {
    const high = await this.profiles.committedPushHighWater(windowStart);
    if (high === null) return { groups: 0, pushes: 0, raced: 0 };
    let groups = 0;
    let pushes = 0;
    let raced = 0;
    for (const group of await this.profiles.pushGroupsBehind(windowStart, high)) {
      // A lone push stays a row until a second one joins it (as attribution keeps it: its digest is its provenance).
      if (!group.merged && group.pending < 2) continue;
      let moved = false;
      for (;;) {
        if (signal?.aborted) return { groups: groups + (moved ? 1 : 0), pushes, raced };
        const merge = await this.profiles.pushMerge(windowStart, group.groupKey);
        const after = merge?.throughId ?? '0';
        if (BigInt(after) >= BigInt(high)) break;
        const rows = await this.profiles.pushesOfGroup(windowStart, group.groupKey, after, high, step);
        if (rows.length === 0 || (merge === null && rows.length < 2)) break;
        const next = pushMergeOf(merge ?? rows[0]!, mergeGroup(merge, rows));
        if (!(await this.profiles.replacePushMerge(next, merge?.throughId ?? null))) {
          // The merge moved since it was read: whoever moved it merged at least as far; its pushes stay theirs.
          raced++;
          break;
        }
        moved = true;
        pushes += rows.length;
        if (rows.length < step) break;
      }
      if (moved) groups++;
    }
    return { groups, pushes, raced };
  }
}
