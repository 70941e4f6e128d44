import { createHash } from 'node:crypto';
import { deserializeFold, mergeFolds, serializeFold } from '../domain/profile';
import type { Fold } from '../domain/profile/profile.types';
import type { PushMerge, StoredProfile } from './profile.repository';

const DIGEST_MODULUS = 1n << 256n;

/** sha256 of a profile digest as a number, the term it adds to a group's `digestSum`. */
function digestTerm(digest: string): bigint {
  return BigInt(`0x${createHash('sha256').update(digest).digest('hex')}`);
}

/** A group's profiles merged: its stored merge (if any) extended by the profiles after it. */
export interface MergedGroup {
  readonly fold: Fold;
  readonly cpuNanoseconds: bigint;
  readonly profileCount: number;
  readonly sampleCount: number;
  /** Highest id merged (the merge's `throughId` when no profile is added). */
  readonly throughId: string;
  /** Sum modulo 2^256 of the sha256 of each merged profile's digest, 64 hex digits. */
  readonly digestSum: string;
  /** The group's digest: its one profile's own, or `merge:` and `digestSum` from two profiles on. */
  readonly digest: string;
}

/**
 * Extends `merge` (null: none yet) by `rows`, CPU profiles of the same group in id order, all after the merge's
 * `throughId`. The one merge code of attribution (`serviceInputs`) and compaction (`compact-pushes`): the fold is the
 * merge's first, then the rows' in id order, which is the order attribution reads them in without any merge, so a
 * merge built in any number of steps is the fold of reading every push at once.
 */
export function mergeGroup(merge: PushMerge | null, rows: readonly StoredProfile[]): MergedGroup {
  const folds = [...(merge ? [deserializeFold(merge.fold)] : []), ...rows.map((p) => deserializeFold(p.fold))];
  if (folds.length === 0) throw new Error('mergeGroup needs a merge or a profile');
  const fold = folds.length === 1 ? folds[0]! : mergeFolds(folds);
  const profileCount = (merge?.profileCount ?? 0) + rows.length;
  const sum = rows.reduce(
    (acc, p) => (acc + digestTerm(p.digest)) % DIGEST_MODULUS,
    merge ? BigInt(`0x${merge.digestSum}`) : 0n,
  );
  const digestSum = sum.toString(16).padStart(64, '0');
  return {
    fold,
    cpuNanoseconds: rows.reduce((total, p) => total + (p.cpuNanoseconds as bigint), merge?.cpuNanoseconds ?? 0n),
    profileCount,
    sampleCount: rows.reduce((n, p) => n + p.sampleCount, merge?.sampleCount ?? 0),
    throughId: rows.reduce((max, p) => (BigInt(p.id) > BigInt(max) ? p.id : max), merge?.throughId ?? '0'),
    digestSum,
    digest: profileCount === 1 ? (rows[0]?.digest ?? '') : `merge:${digestSum}`,
  };
}

/** The merge row of a group after `mergeGroup` (`first`: any profile or the old merge of the group). */
export function pushMergeOf(
  first: Pick<PushMerge, 'windowStart' | 'windowEnd' | 'service' | 'profileType' | 'seriesLabels'>,
  merged: MergedGroup,
): PushMerge & { readonly source: 'push' } {
  return {
    source: 'push',
    windowStart: first.windowStart,
    windowEnd: first.windowEnd,
    service: first.service,
    profileType: first.profileType,
    seriesLabels: first.seriesLabels,
    throughId: merged.throughId,
    profileCount: merged.profileCount,
    cpuNanoseconds: merged.cpuNanoseconds,
    sampleCount: merged.sampleCount,
    digestSum: merged.digestSum,
    fold: Buffer.from(serializeFold(merged.fold)),
  };
}
