import type { EntityManager } from 'typeorm';
import type { PushFoldOptions } from '../domain/ingest';
import { foldPulledProfile } from '../domain/pull/pulled-profile';
import type { FetchedProfile, ProfileSource } from '../sources';
import { profileTypeOf, type ProfileStoreService, type ProfileToStore } from '../profiles/profile-store.service';
import type { WorkItem } from '../jobs/work-queue.repository';
import type { CommitWrites, WorkHandler } from '../jobs/work-runner';
import { type TimeWindow } from '../domain/time-window';

/** The `pull` item's payload: which configured source to ask. */
export interface PullPayload {
  readonly source: string;
}

/**
 * Profile types a pulled fold is stored under: CPU time, or wall time counted as CPU when
 * `ingest.countWallAsCpu` is on. Each is replaced on every pull, so a type that disappeared is removed.
 */
const STORED_TYPES = ['cpu:nanoseconds', 'wall:nanoseconds'] as const;

/**
 * Fetches one service's profiles of one window from one source, folds them in CPU nanoseconds and
 * makes them the window's content for that source. Re-running it converges to the same rows: the
 * store replaces the (source, service, type, window) set and leaves it untouched when the digests are
 * the same, so a taken-over item that already stored its profiles changes nothing.
 */
export class PullHandler implements WorkHandler {
  readonly job = 'pull';
  private readonly sources: ReadonlyMap<string, ProfileSource>;

  constructor(
    sources: readonly ProfileSource[],
    private readonly store: ProfileStoreService,
    private readonly foldOptions: PushFoldOptions,
    private readonly keepRaw: boolean,
    private readonly log: (fields: Record<string, unknown>, message: string) => void = () => undefined,
  ) {
    this.sources = new Map(sources.map((s) => [s.name, s]));
  }

  async handle(item: WorkItem, commit: CommitWrites, signal: AbortSignal): Promise<void> {
    const { source: sourceName } = item.payload as unknown as PullPayload;
    const source = this.sources.get(sourceName);
    if (!source) throw new Error(`pull item ${item.itemKey}: source "${sourceName}" is not configured`);
    if (!item.service) throw new Error(`pull item ${item.itemKey} has no service`);
    const window = { start: item.windowStart, end: item.windowEnd };
    const service = item.service;
    const fetched = await source.fetchProfiles(service, window, signal);
    // Stored in the transaction that completes the item: a worker whose lease was taken over writes nothing.
    await commit((tx) =>
      storePulled(this.store, sourceName, service, window, fetched, {
        fold: this.foldOptions,
        keepRaw: this.keepRaw,
        onSkip: (origin, reason) => this.log({ source: sourceName, service, origin, reason }, 'pulled profile skipped'),
        tx,
      }).then(() => undefined),
    );
  }
}

export interface StorePulledOptions {
  readonly fold: PushFoldOptions;
  /** Keep the bytes as fetched in `profiles.raw`. */
  readonly keepRaw: boolean;
  readonly onSkip?: (origin: string, reason: string) => void;
  /** The transaction to write in (a work item's commit); without it, each profile type is replaced in its own. */
  readonly tx?: EntityManager;
}

/**
 * Folds the profiles fetched for (source, service, window) in CPU nanoseconds and makes them that window's
 * content for the source, per stored profile type: re-running it with the same bytes writes nothing.
 * @returns the number of profiles stored.
 */
export async function storePulled(
  store: ProfileStoreService,
  source: string,
  service: string,
  window: TimeWindow,
  fetched: readonly FetchedProfile[],
  options: StorePulledOptions,
): Promise<number> {
  const profiles: ProfileToStore[] = [];
  for (const profile of fetched) {
    const folded = foldPulledProfile(profile.bytes, options.fold);
    if (folded.action === 'skip') {
      options.onSkip?.(profile.origin, folded.detail);
      continue;
    }
    const { fold, cpuNanoseconds, wallOnly, digest } = folded;
    const raw = options.keepRaw ? profile.bytes : null;
    profiles.push({
      source,
      service,
      window,
      digest,
      seriesLabels: profile.seriesLabels,
      fold,
      cpuNanoseconds,
      wallOnly,
      raw,
      byteSize: profile.bytes.length,
    });
  }
  const unexpected = profiles.find((p) => !(STORED_TYPES as readonly string[]).includes(profileTypeOf(p.fold)));
  if (unexpected)
    throw new Error(
      `pull ${source}/${service}: folded as ${profileTypeOf(unexpected.fold)}, not CPU or wall nanoseconds`,
    );
  for (const type of STORED_TYPES) {
    await store.replaceWindow(
      source,
      service,
      type,
      window,
      profiles.filter((p) => profileTypeOf(p.fold) === type),
      options.tx,
    );
  }
  return profiles.length;
}
