import { Injectable, Logger } from '@nestjs/common';
import { InjectSettings } from '../config/settings.module';
import { ProfileDecodeError } from '../domain/profile';
import {
  buildStoredTrees,
  decodeStoredTrees,
  encodeStoredTrees,
  mergeStoredTrees,
} from '../domain/profile-trees/stored-profile-trees';
import { ProfileRepository } from './profile.repository';
import { mergeGroup, pushMergeOf } from './push-merge';

/** Pushes merged per step and transaction: bounds the folds held at once, whatever a group's backlog. */
export const COMPACT_STEP_PUSHES = 500;

/**
 * Pushes whose trees are built per step: a tree takes up to seconds on label-heavy profiles, and a step runs without
 * yielding, so it is kept short enough for the work item's lease to be renewed in between.
 */
export const TREE_STEP_PUSHES = 25;

/** What compaction needs from the settings: whether trees are split by `version`. */
export interface PushCompactionSettings {
  readonly labels: { readonly keys: readonly string[] };
}

/** What compacting one window did, for logs and tests. */
export interface WindowCompaction {
  /** Push groups whose merge moved forward. */
  readonly groups: number;
  /** Pushes added to merges. */
  readonly pushes: number;
  /** Groups left as they were because their merge moved meanwhile (attribution or another replica). */
  readonly raced: number;
  /** Pushes added to merged trees. */
  readonly treePushes: number;
}

/**
 * Keeps each push group's merge (`profile_push_merges`) close to its window's pushes between attributions, so that
 * attribution (and tree building) read one merge per group plus the few pushes since. Never holds the window's lock
 * while merging: it only reads, under that lock, how far the window's pushes have all committed; it then merges
 * them into the group's merge and stores the result only if the merge is still the one it started from.
 */
@Injectable()
export class PushCompactionService {
  private readonly logger = new Logger('PushCompaction');

  constructor(
    private readonly profiles: ProfileRepository,
    @InjectSettings() private readonly settings: PushCompactionSettings,
  ) {}

  /**
   * Merges the pushes of `windowStart` that committed before this call into their groups' merges, at most `step`
   * pushes per stored merge, then their trees for at most `treeBudgetMs` (0: no trees).
   */
  async compactWindow(
    windowStart: Date,
    {
      signal,
      step = COMPACT_STEP_PUSHES,
      treeStep = TREE_STEP_PUSHES,
      treeBudgetMs = Infinity,
    }: { signal?: AbortSignal; step?: number; treeStep?: number; treeBudgetMs?: number } = {},
  ): Promise<WindowCompaction> {
    // Folds first: attribution reads them; trees wait for the profile-trees job, and take far longer to build.
    const folds = await this.profiles.withCompactionLock(windowStart, 'folds', async () => {
      const high = await this.profiles.committedHighWater(windowStart);
      return high === null
        ? { high, groups: 0, pushes: 0, raced: 0 }
        : { high, ...(await this.compactFolds(windowStart, high, step, signal)) };
    });
    const trees =
      treeBudgetMs > 0 && folds.high !== null
        ? await this.profiles.withCompactionLock(windowStart, 'trees', () =>
            this.compactTrees(windowStart, folds.high!, treeStep, Date.now() + treeBudgetMs, signal),
          )
        : { pushes: 0, raced: 0 };
    return { groups: folds.groups, pushes: folds.pushes, raced: folds.raced + trees.raced, treePushes: trees.pushes };
  }

  private async compactFolds(
    windowStart: Date,
    high: string,
    step: number,
    signal: AbortSignal | undefined,
  ): Promise<{ groups: number; pushes: number; raced: number }> {
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

  /**
   * Moves each push group's merged trees (`profile_push_merge_trees`) forward to `high`, building the new pushes'
   * trees from their raw bytes, until `deadline` (the rest waits for the next run).
   */
  private async compactTrees(
    windowStart: Date,
    high: string,
    step: number,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<{ pushes: number; raced: number }> {
    const splitVersion = this.settings.labels.keys.includes('version');
    let pushes = 0;
    let raced = 0;
    for (const group of await this.profiles.pushGroupsBehind(windowStart, high, 'trees')) {
      if (!group.merged && group.pending < 2) continue; // as the folds: a lone push's tree is built by the trees job
      for (;;) {
        if (signal?.aborted || Date.now() >= deadline) return { pushes, raced };
        const [stored] = await this.profiles.pushTreeMerges(windowStart, undefined, group.groupKey);
        // Trees split otherwise than the settings now say are built again from the group's first push.
        const usable = stored && stored.splitVersion === splitVersion ? stored : null;
        const after = usable?.throughId ?? '0';
        if (BigInt(after) >= BigInt(high)) break;
        const rows = await this.profiles.pushHeadersOfGroup(windowStart, group.groupKey, after, high, step);
        if (rows.length === 0 || (stored === undefined && rows.length < 2)) break;
        const raws = await this.profiles.rawBytesMany(rows.map((r) => r.id));
        const built = buildStoredTrees(rows, raws, {
          splitVersion,
          unreadable: (p, error) => {
            if (!(error instanceof ProfileDecodeError)) return false;
            this.logger.warn(`profile ${p.id}: no tree (${error.message})`);
            return true;
          },
        });
        const merged = mergeStoredTrees(usable ? [decodeStoredTrees(usable), built] : [built]);
        const next = {
          groupKey: group.groupKey,
          throughId: rows[rows.length - 1]!.id,
          splitVersion,
          ...encodeStoredTrees(merged),
        };
        if (!(await this.profiles.replacePushTreeMerge(windowStart, next, stored?.throughId ?? null))) {
          raced++;
          break;
        }
        pushes += rows.length;
        if (rows.length < step) break;
      }
    }
    return { pushes, raced };
  }
}
