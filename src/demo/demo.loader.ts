import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { queryRows } from '../database/query-rows';
import { DEMO_SOURCE } from '../domain/demo/demo-settings';
import {
  DEMO_HOURS,
  defaultReleases,
  planReplay,
  SHIPPED_TRAFFIC_LEVELS,
  type DemoProfileRef,
  type PlannedWindow,
} from '../domain/demo/replay-plan';
import { serializeFold } from '../domain/profile';
import { foldPulledProfile } from '../domain/pull/pulled-profile';
import { lastCompleteWindow } from '../domain/pull/windows';
import { SchedulerService } from '../jobs/scheduler.service';
import { ProfileStoreService, profileTypeOf, type SerializedProfileToStore } from '../profiles/profile-store.service';
import { PULL_SOURCES } from '../pull/pull.job';
import { createSource, silentSourceLogger, sourceSettingSchema, type ProfileSource } from '../sources';
import { DirectorySource } from '../sources/directory.source';

export { DEMO_SOURCE };

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** One shipped profile, folded once and stored for every window the replay gives it. */
interface ShippedProfile extends DemoProfileRef {
  readonly row: Omit<SerializedProfileToStore, 'window'>;
}

/** What a load stored. */
export interface DemoLoad {
  readonly profiles: number;
  readonly from: Date;
  readonly to: Date;
}

/**
 * The first start's demo: when no source is configured and nothing is stored yet, replays the real profiles of
 * `demo/profiles` over DEMO_DAYS days of hourly windows ending at the last complete window (`planReplay`: each hour
 * gets the shipped profile of its service whose traffic suits the hour, of the version the service runs then), then
 * runs the jobs that make it visible: attribute, profile-trees over the whole replay, and the regression scan with
 * its tickets in dry run. The demo source is priced as a simulated fleet (`withDemoPricing`, applied by the settings
 * loader). Runs when the service starts with `schedules.enabled` and `schedules.demo`.
 */
@Injectable()
export class DemoLoader implements OnApplicationBootstrap {
  private readonly logger = new Logger('Demo');

  constructor(
    private readonly db: DataSource,
    @InjectSettings() private readonly settings: Settings,
    @Inject(PULL_SOURCES) private readonly sources: readonly ProfileSource[],
    private readonly store: ProfileStoreService,
    private readonly scheduler: SchedulerService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.settings.schedules.enabled && this.settings.schedules.demo) void this.firstStart();
  }

  /**
   * Loads the demo if it applies, then attributes it, builds its trees and scans it for regressions, each through the
   * job registry. Never throws: a failure is logged and the service goes on empty.
   * @returns what was loaded, or null when the demo did not apply.
   */
  async firstStart(now: Date = new Date(), hours: number = DEMO_HOURS): Promise<DemoLoad | null> {
    const began = Date.now();
    try {
      const load = await this.loadIfEmpty(now, hours);
      if (!load) return null;
      const loaded = Date.now();
      await this.attributeDirty();
      const attributed = Date.now();
      await this.scheduler.trigger('profile-trees', { from: load.from, to: load.to });
      const trees = Date.now();
      // The scan's default windows, computed from the same `now` as the replay: the last complete UTC day.
      const currentTo = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
      await this.scheduler.trigger('regressions', {
        from: new Date(currentTo.getTime() - DAY_MS),
        to: currentTo,
        dryRun: true,
      });
      const seconds = (ms: number) => (ms / 1000).toFixed(1);
      this.logger.log(
        `demo ready in ${seconds(Date.now() - began)} s (stored ${seconds(loaded - began)} s, attributed ${seconds(attributed - loaded)} s, trees ${seconds(trees - attributed)} s, regressions ${seconds(Date.now() - trees)} s)`,
      );
      return load;
    } catch (error) {
      this.logger.error(`loading the demo failed: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  }

  /**
   * Stores the replay of `hours` hourly windows when no source is configured and no profile is stored (tests load a
   * few hours as a fixture: the six most recent windows hold as many rows as the shipped set).
   * @returns what was stored, or null when the demo does not apply.
   */
  async loadIfEmpty(now: Date = new Date(), hours: number = DEMO_HOURS): Promise<DemoLoad | null> {
    if (this.sources.length > 0) return null;
    const [{ any }] = await queryRows<{ any: boolean }>(this.db, 'SELECT EXISTS (SELECT 1 FROM profiles) AS any');
    if (any) return null;
    if (this.settings.ingest.windowSeconds !== 3600) {
      this.logger.warn(
        `the demo replays hourly windows; ingest.windowSeconds is ${this.settings.ingest.windowSeconds}: starting empty`,
      );
      return null;
    }
    const folder = demoFolder();
    if (!folder) {
      this.logger.warn('no demo/profiles folder next to the package: starting empty');
      return null;
    }
    const shipped = await this.readShipped(folder);
    if (shipped.length === 0) return null;
    const end = lastCompleteWindow(now, 3600).end;
    const plan = planReplay(shipped, { end, hours, releases: defaultReleases(end) });
    const stored = await this.storePlan(shipped, plan);
    const from = new Date(end.getTime() - hours * HOUR_MS);
    this.logger.log(
      `stored ${stored} demo profiles: ${shipped.length} real profiles replayed over ${hours} hourly windows, ${from.toISOString()} to ${end.toISOString()}`,
    );
    return { profiles: stored, from, to: end };
  }

  /** The shipped CPU profiles, each folded once, with the traffic level and version the plan needs. */
  private async readShipped(folder: string): Promise<ShippedProfile[]> {
    const source = createSource(
      sourceSettingSchema.parse({ name: DEMO_SOURCE, kind: 'directory', path: folder, minAgeSeconds: 0 }),
      { logger: silentSourceLogger },
    );
    if (!(source instanceof DirectorySource)) throw new Error('the demo source must be a directory source');
    const signal = AbortSignal.timeout(120_000);
    const windows = await source.coveredWindows(signal);
    const foldOptions = {
      labelKeys: this.settings.labels.keys,
      maxLabelValues: this.settings.labels.maxValuesPerKey,
      countWallAsCpu: false,
    };
    const shipped: ShippedProfile[] = [];
    for (const [index, window] of windows.entries()) {
      for (const service of await source.listServices(window, signal)) {
        for (const [n, fetched] of (await source.fetchProfiles(service, window, signal)).entries()) {
          const folded = foldPulledProfile(fetched.bytes, foldOptions);
          if (folded.action === 'skip' || profileTypeOf(folded.fold) !== 'cpu:nanoseconds') continue;
          shipped.push({
            key: `${service}/${window.start.toISOString()}/${n}`,
            service,
            traffic: SHIPPED_TRAFFIC_LEVELS[index % SHIPPED_TRAFFIC_LEVELS.length]!,
            version: versionOf(fetched.bytes),
            row: {
              source: DEMO_SOURCE,
              service,
              digest: folded.digest,
              seriesLabels: fetched.seriesLabels,
              profileType: profileTypeOf(folded.fold),
              serializedFold: serializeFold(folded.fold),
              sampleCount: folded.fold.sampleCount,
              cpuNanoseconds: folded.cpuNanoseconds,
              wallOnly: folded.wallOnly,
              // Kept: the flame graphs and the regression scan build their trees from the bytes.
              raw: fetched.bytes,
            },
          });
        }
      }
    }
    return shipped;
  }

  /**
   * One row per planned window through the profile store's group commit (`storeSerialized`): the fold is serialized
   * once per shipped profile, and each window's rows are the same bytes under another window.
   */
  private async storePlan(shipped: readonly ShippedProfile[], plan: readonly PlannedWindow[]): Promise<number> {
    const byKey = new Map(shipped.map((s) => [s.key, s]));
    const results = await Promise.all(
      plan.map((p) => this.store.storeSerialized({ ...byKey.get(p.key)!.row, window: { start: p.start, end: p.end } })),
    );
    return results.filter((r) => !r.duplicate).length;
  }

  /** Attributes every dirty window; again if a scheduled run that began mid-load left some behind. */
  private async attributeDirty(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.scheduler.trigger('attribute');
      const [{ any }] = await queryRows<{ any: boolean }>(
        this.db,
        'SELECT EXISTS (SELECT 1 FROM dirty_windows) AS any',
      );
      if (!any) return;
    }
  }
}

/**
 * Whether a `flamebill serve` with these settings loads the demo at start: its jobs run, the demo is on, no source is
 * configured and nothing is stored yet. For the line `serve` prints; the loader checks again when it runs.
 */
export async function demoWillLoad(db: DataSource, settings: Settings): Promise<boolean> {
  if (!settings.schedules.enabled || !settings.schedules.demo || settings.sources.length > 0) return false;
  if (settings.ingest.windowSeconds !== 3600 || !demoFolder()) return false;
  const [{ any }] = await queryRows<{ any: boolean }>(db, 'SELECT EXISTS (SELECT 1 FROM profiles) AS any');
  return !any;
}

/** The `version` label of a shipped profile's samples (the one on most CPU time; its GC samples carry none). */
function versionOf(bytes: Uint8Array): string {
  const folded = foldPulledProfile(bytes, { labelKeys: ['version'], maxLabelValues: 100, countWallAsCpu: false });
  if (folded.action === 'skip') return 'unknown';
  const totals = new Map<string, bigint>();
  for (const slice of folded.fold.slices ?? []) {
    const version = slice.labels['version'];
    if (version !== undefined) totals.set(version, (totals.get(version) ?? 0n) + slice.total);
  }
  const ranked = [...totals].sort(([, a], [, b]) => (a > b ? -1 : a < b ? 1 : 0));
  return ranked[0]?.[0] ?? 'unknown';
}

/** `demo/profiles` of the installed package (two levels above `src/demo`, three above `dist/src/demo`). */
function demoFolder(): string | null {
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(__dirname, up, 'demo', 'profiles');
    if (existsSync(candidate)) return candidate;
  }
  return null;
}
