import type { EntityManager } from 'typeorm';
import { Injectable } from '@nestjs/common';
import { serializeFold, type Fold } from '../domain/profile';
import { DEFAULT_INSERT_BATCH, ProfileInsertBatcher, type InsertBatchOptions } from './profile-insert.batcher';
import { ProfileRepository, type InsertResult, type NewProfileRow, type ReplaceResult } from './profile.repository';
import { type TimeWindow } from '../domain/time-window';

/** One folded profile to store, as push and pull both produce it. */
export interface ProfileToStore {
  /** Settings source name, `push` or `demo`. */
  readonly source: string;
  readonly service: string;
  readonly window: TimeWindow;
  /** sha256 hex that identifies the profile within (source, service, profile type, window). */
  readonly digest: string;
  readonly seriesLabels: Readonly<Record<string, string>>;
  /** Folded once, with label slices; `<type>:<unit>` of its sample type is the row's profile type. */
  readonly fold: Fold;
  /** CPU time to bill; null when the fold is not CPU time (not counted). */
  readonly cpuNanoseconds: bigint | null;
  /** True when `cpuNanoseconds` is wall-clock time counted as CPU (`ingest.countWallAsCpu`). */
  readonly wallOnly: boolean;
  /** The bytes as received; kept in `raw` unless null. `byte_size` is their length. */
  readonly raw: Uint8Array | null;
  /** Size of the original bytes when `raw` is not kept. */
  readonly byteSize?: number;
}

/** A profile whose fold was already serialized (by a fold worker): what the push path stores. */
export interface SerializedProfileToStore extends Omit<ProfileToStore, 'fold'> {
  /** `<type>:<unit>` of the fold's sample type. */
  readonly profileType: string;
  /** `serializeFold()` bytes, with label slices. */
  readonly serializedFold: Uint8Array;
  readonly sampleCount: number;
}

/**
 * The one way profiles get into the `profiles` table, for push and pull alike: serializes the fold once and writes
 * one row per profile (push) or replaces a source's window (pull re-runs). Every write marks its window dirty
 * in the same transaction, so an already attributed window gets re-attributed.
 */
@Injectable()
export class ProfileStoreService {
  /** Single-profile stores that arrive together are committed together (group commit). */
  private readonly batcher: ProfileInsertBatcher;

  constructor(
    private readonly profiles: ProfileRepository,
    batch: InsertBatchOptions = DEFAULT_INSERT_BATCH,
  ) {
    this.batcher = new ProfileInsertBatcher((rows) => profiles.insertMany(rows), batch);
  }

  /**
   * Stores one profile; an identical one (same key and digest) is not stored again (`duplicate`). Resolves after the
   * commit; concurrent calls share commits.
   */
  store(profile: ProfileToStore): Promise<InsertResult> {
    return this.batcher.insert(toRow(profile));
  }

  /** `store` for a fold serialized elsewhere (a fold worker): the same row, without serializing on this thread. */
  storeSerialized(profile: SerializedProfileToStore): Promise<InsertResult> {
    return this.batcher.insert(serializedToRow(profile));
  }

  /**
   * Makes `profiles` the complete content of `source`'s (service, profile type, window): the pull of a window,
   * re-runnable. All profiles must share source, service, window and the fold's sample type.
   */
  replaceWindow(
    source: string,
    service: string,
    profileType: string,
    window: TimeWindow,
    profiles: readonly ProfileToStore[],
    tx?: EntityManager,
  ): Promise<ReplaceResult> {
    return this.profiles.replaceSourceWindow(source, service, profileType, window.start, profiles.map(toRow), tx);
  }
}

/** `<type>:<unit>` of a fold's sample type, the `profile_type` column. */
export function profileTypeOf(fold: Fold): string {
  return `${fold.sampleType.type}:${fold.sampleType.unit}`;
}

function toRow(p: ProfileToStore): NewProfileRow {
  return {
    source: p.source,
    service: p.service,
    profileType: profileTypeOf(p.fold),
    windowStart: p.window.start,
    windowEnd: p.window.end,
    digest: p.digest,
    seriesLabels: p.seriesLabels,
    byteSize: p.raw?.length ?? p.byteSize ?? 0,
    sampleCount: p.fold.sampleCount,
    cpuNanoseconds: p.cpuNanoseconds,
    wallOnly: p.wallOnly,
    fold: serializeFold(p.fold),
    raw: p.raw,
  };
}

function serializedToRow(p: SerializedProfileToStore): NewProfileRow {
  return {
    source: p.source,
    service: p.service,
    profileType: p.profileType,
    windowStart: p.window.start,
    windowEnd: p.window.end,
    digest: p.digest,
    seriesLabels: p.seriesLabels,
    byteSize: p.raw?.length ?? p.byteSize ?? 0,
    sampleCount: p.sampleCount,
    cpuNanoseconds: p.cpuNanoseconds,
    wallOnly: p.wallOnly,
    fold: p.serializedFold,
    raw: p.raw,
  };
}
