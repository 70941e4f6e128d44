import type { ProfileSource } from '../sources';
import { foldPulledProfile } from '../domain/pull/pulled-profile';
import type { PushFoldOptions } from '../domain/ingest';
import { profileTypeOf, type ProfileStoreService, type ProfileToStore } from '../profiles/profile-store.service';
import type { WorkItem } from './work-queue.repository';
import type { CommitWrites, WorkHandler } from './work-runner';

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
    const fetched = await source.fetchProfiles(item.service, window, signal);
    const profiles: ProfileToStore[] = [];
    for (const profile of fetched) {
      const folded = foldPulledProfile(profile.bytes, this.foldOptions);
      if (folded.action === 'skip') {
        this.log({ source: sourceName, service: item.service, origin: profile.origin, reason: folded.detail }, 'pulled profile skipped');
        continue;
      }
      profiles.push({
        source: sourceName,
        service: item.service,
        window,
        digest: folded.digest,
        seriesLabels: profile.seriesLabels,
        fold: folded.fold,
        cpuNanoseconds: folded.cpuNanoseconds,
        wallOnly: folded.wallOnly,
        raw: this.keepRaw ? profile.bytes : null,
        byteSize: profile.bytes.length,
      });
    }
    const unexpected = profiles.find((p) => !(STORED_TYPES as readonly string[]).includes(profileTypeOf(p.fold)));
    if (unexpected) throw new Error(`pull item ${item.itemKey}: folded as ${profileTypeOf(unexpected.fold)}, not CPU or wall nanoseconds`);
    for (const type of STORED_TYPES) {
      const ofType = profiles.filter((p) => profileTypeOf(p.fold) === type);
      await this.store.replaceWindow(sourceName, item.service, type, window, ofType);
    }
    await commit(async () => undefined);
  }
}
