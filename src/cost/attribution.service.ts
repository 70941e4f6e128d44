import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { CatalogRepository } from '../catalog/catalog.repository';
import { InjectSettings } from '../config/settings.module';
import {
  attributeWindowSplits,
  type PriceSettings,
  type ServiceFunctionSplit,
  type ServiceWindowInput,
  type WindowAttributionSplits,
} from '../domain/cost';
import { ProfileRepository, type PushMerge, type StoredProfile } from '../profiles/profile.repository';
import { mergeGroup, pushMergeOf } from '../profiles/push-merge';
import { AttributionRepository } from './attribution.repository';
import { FunctionDayState, TOP_SIZE } from './function-day-state';
import { FunctionDayRepository } from './function-day.repository';
import { FunctionDictionary } from './function-dictionary';
import { decodeSplitArrays, encodeSplitArrays, type SplitArrays } from './function-split.codec';
import { priceScheduleOf, priceSettingsOf, type PriceSchedule } from './price-schedule';
import type { GoodRevision } from '../catalog/catalog.repository';
import { isoDay, type TimeWindow } from '../domain/time-window';

/** What attribution needs from the settings: the price section and the label keys facts are split by. */
export type AttributionSettings = PriceSettings & {
  readonly labels: { readonly keys: readonly string[]; readonly maxValuesPerKey?: number };
};

/**
 * What a window is computed with, by stored id: the price schedule (`price_schedules`) and the catalog revision
 * (null: none, everything `__unowned__`). A work item carries it, so whichever replica claims the item computes
 * exactly what the planner meant.
 */
export interface AttributionBasis {
  readonly priceScheduleId: string;
  readonly catalogRevisionId: string | null;
}

interface ResolvedBasis {
  readonly catalog: GoodRevision | null;
  readonly priceSchedule: PriceSchedule;
  readonly prices: PriceSettings;
}

/** What one attribution stored, for job logs and progress. */
export interface WindowAttributionResult {
  readonly windowStart: Date;
  readonly totalMicrodollars: bigint;
  readonly profiles: number;
  readonly services: number;
  readonly functionRows: number;
  /** `cost_function_days` rows whose amounts changed (lines of the services whose function split changed). */
  readonly functionDayChanges: number;
  readonly catalogRevision: string | null;
  readonly priceScheduleId: string;
  /** True when the window was marked dirty (new profiles since its last attribution). */
  readonly wasDirty: boolean;
  /** The window changed while it was attributed (a write after what was read): its mark stays for the next run. */
  readonly stillDirty: boolean;
  /** Milliseconds per step (read, attribute, functionIds, functionDiff, writeWindow, dayRead, dayMerge, dayBlocks, dayTops, rollups, merges, clear), for logs and the benchmark. */
  readonly timings: Readonly<Record<string, number>>;
}

/** Series labels that select price scopes. */
const CLUSTER_LABEL = 'cluster';
const REGION_LABEL = 'region';

/** Advisory-lock class of the per-day attribution lock ("dayl"). */
const DAY_LOCK_CLASS = 0x6461796c;

/**
 * Attributes one window from the stored profiles, the catalog revision in force and the price settings, and
 * replaces the window's facts and its day's rollups in the caller's transaction: re-running gives identical
 * rows, and a failure leaves the previous facts in place.
 */
@Injectable()
export class AttributionService {
  private readonly functions: FunctionDictionary;
  /**
   * The daily function facts this process wrote last, with the token it wrote: reused while the day's stored token
   * is still that one (no other process or rolled-back transaction wrote since), read again otherwise.
   */
  private dayCache: { token: string; state: FunctionDayState } | null = null;
  /** Per service, the function ids of its last window's split (names in split order). */
  private readonly lastIds = new Map<string, ServiceFunctionIds>();

  constructor(
    private readonly profiles: ProfileRepository,
    private readonly catalogs: CatalogRepository,
    @InjectSettings() private readonly settings: AttributionSettings,
    dictionary: FunctionDictionary,
    private readonly facts: AttributionRepository,
    private readonly days: FunctionDayRepository,
  ) {
    this.functions = dictionary;
  }

  /**
   * Inside `tx`: reads the window's profiles up to what had committed (`committedThrough`, a
   * `ProfileRepository.committedHighWater` read before `tx`, or read now), attributes them, replaces its facts and
   * clears its dirty mark unless a write came since. Call it inside the work item's `commit` so the facts land with
   * the item.
   */
  async attributeWindow(
    window: TimeWindow,
    tx: EntityManager,
    basis?: AttributionBasis,
    committedThrough?: string | null,
  ): Promise<WindowAttributionResult> {
    const clock = stopwatch();
    // Windows of one UTC day share the day's rollups, rebuilt below: one attribution at a time per day, across
    // replicas and lanes (two at once both delete, then both insert the day's rows). So also one attribution of a
    // window at a time.
    await tx.query(`SELECT pg_advisory_xact_lock(${DAY_LOCK_CLASS}, $1::int)`, [
      Math.floor(window.start.getTime() / 86_400_000),
    ]);
    // Read up to what had committed, without holding the window: pushes into it go on while it is attributed, and its
    // mark is cleared at the end only if nothing came since (`clearDirtyIfUnchanged`).
    const wasDirty = await this.profiles.isDirty(window.start, tx);
    // `committedThrough` read before `tx` began (the attribute job's handler), so that `tx` never waits for a second
    // connection of the pool; read here otherwise.
    const throughId =
      (committedThrough !== undefined ? committedThrough : await this.profiles.committedHighWater(window.start)) ?? '0';
    const stored = await this.profiles.listWindowForAttribution(window.start, tx, throughId);
    const {
      catalog: current,
      priceSchedule,
      prices,
    } = basis ? await this.resolveBasis(tx, basis) : await this.currentBasis(tx);
    const { inputs, digestsByProfilerName, merges, profileCount } = serviceInputs(stored);
    clock.lap('read');
    const attribution = attributeWindowSplits({
      window: { startMs: window.start.getTime(), endMs: window.end.getTime() },
      services: inputs,
      catalog: current?.catalog ?? null,
      catalogRevision: current?.revision ?? null,
      settings: prices,
      labelKeys: this.settings.labels.keys,
      maxLabelValues: this.settings.labels.maxValuesPerKey,
    });
    clock.lap('attribute');
    const newSplits = await this.functionSplits(attribution);
    clock.lap('functionIds');
    await this.facts.ensurePartitions(tx, window.start);
    await this.facts.savePriceSchedule(tx, priceSchedule);
    const oldSplits = await this.facts.functionSplits(tx, window.start);
    const changed = changedServices(oldSplits, newSplits);
    clock.lap('functionDiff');
    await this.facts.replaceWindow(tx, {
      windowStart: window.start,
      windowEnd: window.end,
      attribution,
      catalogRevisionId: current?.id ?? null,
      priceSchedule,
      profileCount,
      profileDigests: serviceDigests(attribution, digestsByProfilerName),
      splits: new Map(
        [...newSplits].map(([service, split]) => [
          service,
          { bytes: split.bytes, functions: split.arrays.ids.length, self: sumOf(split.arrays.self) },
        ]),
      ),
    });
    clock.lap('writeWindow');
    const day = isoDay(window.start);
    const functionDayChanges =
      changed.length === 0 ? 0 : await this.applyToDay(tx, day, changed, oldSplits, newSplits, clock);
    await this.facts.rebuildDayRollups(tx, day);
    clock.lap('rollups');
    // The pushes read now become the groups' merges: the next attribution of this window reads them once, not each push.
    await this.profiles.saveMerges(tx, merges);
    clock.lap('merges');
    // Last, so that the window's exclusive lock it takes is held only until the commit that follows.
    const cleared = await this.profiles.clearDirtyIfUnchanged(tx, window.start, throughId, stored.rows);
    clock.lap('clear');
    return {
      windowStart: window.start,
      totalMicrodollars: attribution.totalMicrodollars,
      profiles: profileCount,
      services: attribution.services.length,
      functionRows: newSplits.size === 0 ? 0 : [...newSplits.values()].reduce((n, s) => n + s.arrays.ids.length, 0),
      functionDayChanges,
      catalogRevision: current?.revision ?? null,
      priceScheduleId: priceSchedule.id,
      wasDirty,
      stillDirty: !cleared,
      timings: clock.laps,
    };
  }

  /**
   * Folds the changed services' new splits into the day's function facts (day − stored split + new split), then
   * rewrites the touched blocks, the day's board lists and its state. Returns the number of changed entries.
   */
  private async applyToDay(
    tx: EntityManager,
    day: string,
    changed: readonly string[],
    oldSplits: ReadonlyMap<string, Buffer>,
    newSplits: ReadonlyMap<string, EncodedSplit>,
    clock: Stopwatch,
  ): Promise<number> {
    const { token } = await this.days.lockDay(tx, day);
    const cached = this.dayCache;
    this.dayCache = null; // the state is changed in place below: only a completed write puts it back
    const state =
      cached && cached.state.day === day && cached.token === token && token !== ''
        ? cached.state
        : token === ''
          ? new FunctionDayState(day)
          : FunctionDayState.fromBlocks(day, await this.days.readBlocks(tx, day));
    clock.lap('dayRead');
    await this.functions.services.ensure(changed);
    let changes = 0;
    for (const service of changed) {
      const before = oldSplits.get(service);
      changes += state.apply(
        this.functions.services.idOf(service),
        before ? decodeSplitArrays(before) : null,
        newSplits.get(service)?.arrays ?? null,
      );
    }
    const touched = state.touchedBlocks;
    const blocks = state.blocks(touched);
    clock.lap('dayMerge');
    await this.days.writeBlocks(tx, day, touched, blocks);
    clock.lap('dayBlocks');
    const { boards, functions } = state.tops(TOP_SIZE);
    const next = { token: randomBytes(12).toString('hex'), pairs: state.pairs, functions, topSize: TOP_SIZE, boards };
    await this.days.writeTopsAndState(tx, day, next);
    clock.lap('dayTops');
    this.dayCache = { token: next.token, state: state.settle() };
    return changes;
  }

  /** Per service: its function split in ascending function id order, and its encoding. */
  /**
   * What a window is attributed with when the caller does not say: this process's price settings (stored as a
   * schedule so work items can name it) and the catalog revision in force.
   */
  async currentBasis(db: EntityManager): Promise<ResolvedBasis> {
    const priceSchedule = priceScheduleOf(this.settings);
    await this.facts.savePriceSchedule(db, priceSchedule);
    return { catalog: await this.catalogs.currentGood(db), priceSchedule, prices: this.settings };
  }

  /** True when `priceScheduleId` is this process's own price settings. */
  isOwnPriceSchedule(priceScheduleId: string): boolean {
    return priceScheduleOf(this.settings).id === priceScheduleId;
  }

  /** The stored schedule and catalog revision a work item names; an unknown id is an error (nothing is guessed). */
  private async resolveBasis(tx: EntityManager, basis: AttributionBasis): Promise<ResolvedBasis> {
    const priceSchedule = await this.facts.priceSchedule(tx, basis.priceScheduleId);
    if (!priceSchedule) throw new Error(`price schedule ${basis.priceScheduleId} is not stored`);
    const catalog =
      basis.catalogRevisionId === null ? null : await this.catalogs.goodRevision(basis.catalogRevisionId, tx);
    if (basis.catalogRevisionId !== null && !catalog)
      throw new Error(`catalog revision ${basis.catalogRevisionId} is not a stored good revision`);
    return { catalog, priceSchedule, prices: priceSettingsOf(priceSchedule.document) };
  }

  private async functionSplits(attribution: WindowAttributionSplits): Promise<Map<string, EncodedSplit>> {
    const ids = await this.functionIds(attribution.functionSplits);
    const out = new Map<string, EncodedSplit>();
    attribution.functionSplits.forEach((split, s) => {
      const { ids: unsorted, order } = ids[s] as ServiceFunctionIds;
      const arrays: SplitArrays = {
        ids: Int32Array.from(order, (i) => unsorted[i] as number),
        self: Array.from(order, (i) => split.self[i] as bigint),
        cum: Array.from(order, (i) => split.cum[i] as bigint),
      };
      out.set(split.service, { arrays, bytes: encodeSplitArrays(arrays) });
    });
    return out;
  }

  /**
   * Function ids of every split's names, with the order that sorts them. A service's functions are mostly the same
   * names in the same order window after window, so the previous window's answer is checked name by name first (a
   * string comparison each) before asking the dictionary: with 2 M names a window, hashing each name into a Map of
   * millions of names cost more than the whole attribution.
   */
  private async functionIds(splits: readonly ServiceFunctionSplit[]): Promise<ServiceFunctionIds[]> {
    const out: Array<ServiceFunctionIds | null> = [];
    const missing: string[] = [];
    for (const split of splits) {
      const memo = this.lastIds.get(split.service);
      if (memo && sameNames(memo.names, split.names)) out.push(memo);
      else {
        out.push(null);
        for (const name of split.names) missing.push(name);
      }
    }
    await this.functions.ensure(missing);
    return splits.map((split, s) => {
      const known = out[s];
      if (known) return known;
      const ids = Int32Array.from(split.names, (name) => this.functions.idOf(name));
      const entry: ServiceFunctionIds = { names: split.names, ids, order: ascendingOrder(ids) };
      this.lastIds.set(split.service, entry);
      return entry;
    });
  }
}

/** A service's function names, their ids, and the positions that list the ids in ascending order. */
interface ServiceFunctionIds {
  readonly names: readonly string[];
  readonly ids: Int32Array;
  readonly order: Int32Array;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Positions of `ids` in ascending id order, by a native numeric sort of id × 2^21 + position (exact below 2^53). */
function ascendingOrder(ids: Int32Array): Int32Array {
  const n = ids.length;
  if (n >= 1 << 21)
    return Int32Array.from(
      Array.from({ length: n }, (_, i) => i).sort((a, b) => (ids[a] as number) - (ids[b] as number)),
    );
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = (ids[i] as number) * 2097152 + i;
  keys.sort();
  return Int32Array.from(keys, (k) => k % 2097152);
}

/** A service's function split for the window, decoded and encoded. */
interface EncodedSplit {
  readonly arrays: SplitArrays;
  readonly bytes: Buffer;
}

/** What attribution reads of a window: the merges of its pushes and the profiles not merged yet. */
export interface WindowProfiles {
  readonly merges: readonly PushMerge[];
  readonly profiles: readonly StoredProfile[];
}

/** A push group's merge after this attribution, to store with the window's facts (only groups that changed). */
type NewMerge = PushMerge & { readonly source: 'push' };

/**
 * One attribution input per (profiler service name, source, cluster, region, profile type): the folds of one such
 * group are merged (a pushing agent sends a profile every few seconds), CPU time added up; a push group starts from its
 * stored merge and adds the pushes that came after it, and its new merge is returned to be stored. A group's digest is
 * its one profile's, or `merge:` and the sum of its profiles' digest hashes (the same whether or not part of it was
 * merged before). Profiles that are not CPU time (`cpuNanoseconds` null) are not costed.
 */
export function serviceInputs(window: WindowProfiles): {
  inputs: ServiceWindowInput[];
  digestsByProfilerName: Map<string, string[]>;
  merges: NewMerge[];
  profileCount: number;
} {
  interface Group {
    readonly first: {
      readonly service: string;
      readonly source: string;
      readonly profileType: string;
      readonly seriesLabels: Readonly<Record<string, string>>;
      readonly windowStart: Date;
      readonly windowEnd: Date;
    };
    merge: PushMerge | null;
    readonly rows: StoredProfile[];
  }
  const groups = new Map<string, Group>();
  const keyOf = (p: {
    service: string;
    source: string;
    seriesLabels: Readonly<Record<string, string>>;
    profileType: string;
  }): string =>
    JSON.stringify([
      p.service,
      p.source,
      p.seriesLabels[CLUSTER_LABEL] ?? null,
      p.seriesLabels[REGION_LABEL] ?? null,
      p.profileType,
    ]);
  for (const m of window.merges)
    groups.set(keyOf({ ...m, source: 'push' }), { first: { ...m, source: 'push' }, merge: m, rows: [] });
  let profileCount = window.merges.reduce((n, m) => n + m.profileCount, 0);
  for (const p of window.profiles) {
    profileCount++;
    if (p.cpuNanoseconds === null) continue;
    const key = keyOf(p);
    const group = groups.get(key);
    if (group) group.rows.push(p);
    else groups.set(key, { first: p, merge: null, rows: [p] });
  }
  const inputs: ServiceWindowInput[] = [];
  const merges: NewMerge[] = [];
  const digestsByProfilerName = new Map<string, string[]>();
  for (const { first, merge, rows } of groups.values()) {
    const merged = mergeGroup(merge, rows);
    const cluster = first.seriesLabels[CLUSTER_LABEL];
    const region = first.seriesLabels[REGION_LABEL];
    inputs.push({
      serviceName: first.service,
      fold: merged.fold,
      cpuNanoseconds: merged.cpuNanoseconds,
      source: first.source,
      ...(cluster !== undefined ? { cluster } : {}),
      ...(region !== undefined ? { region } : {}),
      profileDigest: merged.digest,
    });
    digestsByProfilerName.set(first.service, [...(digestsByProfilerName.get(first.service) ?? []), merged.digest]);
    // A lone push stays a row (its own digest is its provenance); from two pushes on, the group is kept merged.
    if (first.source === 'push' && rows.length > 0 && merged.profileCount > 1) merges.push(pushMergeOf(first, merged));
  }
  return { inputs, digestsByProfilerName, merges, profileCount };
}

/** Digests of the stored profiles behind each service line (all profiler names that resolved to it). */
function serviceDigests(
  attribution: WindowAttributionSplits,
  byName: ReadonlyMap<string, readonly string[]>,
): Map<string, string[]> {
  return new Map(
    attribution.services.map((s) => [
      s.service,
      [...new Set(s.profileServiceNames.flatMap((n) => byName.get(n) ?? []))].sort(),
    ]),
  );
}

/**
 * Services whose function split changed (different bytes, new, or gone), by name: only their lines of the day's
 * function facts change. An unchanged window has none, and then no daily function fact is written.
 */
export function changedServices(
  oldSplits: ReadonlyMap<string, Buffer>,
  newSplits: ReadonlyMap<string, { readonly bytes: Buffer }>,
): string[] {
  const out: string[] = [];
  for (const service of new Set([...oldSplits.keys(), ...newSplits.keys()])) {
    const oldBytes = oldSplits.get(service);
    const newBytes = newSplits.get(service)?.bytes;
    if (oldBytes && newBytes && oldBytes.equals(newBytes)) continue;
    out.push(service);
  }
  return out.sort();
}

function sumOf(values: readonly bigint[]): bigint {
  let total = 0n;
  for (const v of values) total += v;
  return total;
}

interface Stopwatch {
  lap(name: string): void;
  readonly laps: Record<string, number>;
}

function stopwatch(): Stopwatch {
  const laps: Record<string, number> = {};
  let last = performance.now();
  return {
    laps,
    lap(name) {
      const now = performance.now();
      laps[name] = Math.round(now - last);
      last = now;
    },
  };
}
