import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { queryRows } from '../database/query-rows';
import { lastCompleteWindow } from '../domain/pull/windows';
import { ProfileStoreService } from '../profiles/profile-store.service';
import { createSource, silentSourceLogger, sourceSettingSchema, type ProfileSource } from '../sources';
import { DirectorySource } from '../sources/directory.source';
import { SchedulerService } from '../jobs/scheduler.service';
import { storePulled } from '../pull/pull.handler';
import { PULL_SOURCES } from '../pull/pull.job';

/** Source name of the demo rows, so they are easy to tell apart (and to delete). */
export const DEMO_SOURCE = 'demo';

/**
 * Loads the real profiles shipped in `demo/profiles` at first start, so a fresh `npm start` shows
 * numbers before any profiler is connected. Only when no source is configured and nothing is stored
 * yet. The demo's windows are moved, keeping their spacing, so the newest lands on the last complete
 * window: a demo of yesterday's data would look empty on a dashboard that opens on "today". Runs when the service
 * starts with `schedules.enabled` and `schedules.demo`, then attributes what it loaded.
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
    if (this.settings.schedules.enabled && this.settings.schedules.demo) void this.loadAndAttribute();
  }

  private async loadAndAttribute(): Promise<void> {
    try {
      const loaded = await this.loadIfEmpty();
      if (loaded > 0) await this.scheduler.trigger('attribute');
    } catch (error) {
      this.logger.error(`loading the demo profiles failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** @returns the number of profiles stored (0 when the demo does not apply). */
  async loadIfEmpty(now: Date = new Date()): Promise<number> {
    if (this.sources.length > 0) return 0;
    const [{ any }] = await queryRows<{ any: boolean }>(this.db, 'SELECT EXISTS (SELECT 1 FROM profiles) AS any');
    if (any) return 0;
    const folder = demoFolder();
    if (!folder) {
      this.logger.warn('no demo/profiles folder next to the package: starting empty');
      return 0;
    }
    return this.load(folder, now);
  }

  private async load(folder: string, now: Date): Promise<number> {
    const source = createSource(
      sourceSettingSchema.parse({ name: DEMO_SOURCE, kind: 'directory', path: folder, minAgeSeconds: 0 }),
      { logger: silentSourceLogger },
    );
    if (!(source instanceof DirectorySource)) throw new Error('the demo source must be a directory source');
    const signal = AbortSignal.timeout(120_000);
    const windows = await source.coveredWindows(signal);
    if (windows.length === 0) return 0;
    const newest = windows[windows.length - 1]!;
    const shiftMs =
      lastCompleteWindow(now, this.settings.ingest.windowSeconds).start.getTime() - newest.start.getTime();
    const foldOptions = {
      labelKeys: this.settings.labels.keys,
      maxLabelValues: this.settings.labels.maxValuesPerKey,
      countWallAsCpu: false,
    };
    let stored = 0;
    for (const window of windows) {
      const target = {
        start: new Date(window.start.getTime() + shiftMs),
        end: new Date(window.end.getTime() + shiftMs),
      };
      for (const service of await source.listServices(window, signal)) {
        const fetched = await source.fetchProfiles(service, window, signal);
        stored += await storePulled(this.store, DEMO_SOURCE, service, target, fetched, {
          fold: foldOptions,
          keepRaw: false,
        });
      }
    }
    this.logger.log(
      `loaded ${stored} demo profiles into ${windows.length} windows ending ${lastCompleteWindow(now, this.settings.ingest.windowSeconds).end.toISOString()}`,
    );
    return stored;
  }
}

/** `demo/profiles` of the installed package (two levels above `src/demo`, three above `dist/src/demo`). */
function demoFolder(): string | null {
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(__dirname, up, 'demo', 'profiles');
    if (existsSync(candidate)) return candidate;
  }
  return null;
}
