import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { formatCatalogProblem, type CatalogProblem } from '../domain/catalog';
import { ReadinessRegistry, type ReadinessReport } from '../health/readiness.registry';
import { moneyJson, type MoneyJson } from '../domain/cost';
import { CatalogLoader } from './catalog.loader';
import {
  CatalogRepository,
  type CatalogLoadRecord,
  type CatalogRevisionRow,
  type GoodRevision,
} from './catalog.repository';
import { BackstageCatalogReader } from './backstage-catalog.reader';

/** How often the catalog directory is read again; an unchanged directory costs a read and a hash, no write. */
export const CATALOG_RECHECK_MS = 60_000;
/** After a load that could not be stored (database trouble), how soon it is tried again. */
export const CATALOG_RETRY_MS = 2_000;

/** What the last load found, as /readyz and the API show it. */
export interface CatalogState {
  readonly dir: string;
  readonly current: GoodRevision | null;
  /** The latest failed load when it is newer than the revision in force. */
  readonly lastError: CatalogRevisionRow | null;
}

/** JSON of `GET /api/v1/catalog`. */
export interface CatalogView {
  readonly dir: string;
  readonly current: {
    readonly id: string;
    readonly revision: string;
    readonly loadedAt: string;
    readonly lastLoadedAt: string;
    readonly files: readonly string[];
    readonly services: ReadonlyArray<Record<string, unknown>>;
    readonly teams: ReadonlyArray<Record<string, unknown>>;
    /** Entities skipped (or links dropped) in this revision, with file, line and field. */
    readonly problems: readonly CatalogProblem[];
  } | null;
  readonly lastError: {
    readonly id: string;
    readonly revision: string;
    readonly loadedAt: string;
    readonly files: readonly string[];
    readonly errors: readonly CatalogProblem[];
  } | null;
  readonly loadFailure: string | null;
  /** Services attributed to `__unowned__` in the cost facts, for someone to claim. */
  readonly unownedServices: ReadonlyArray<{
    readonly service: string;
    readonly firstSeenDay: string;
    readonly lastSeenDay: string;
    readonly cost: MoneyJson;
  }>;
}

/**
 * Loads the catalog directory (`paths.catalogDir`, `FLAMEBILL_CATALOG_DIR`) at start, every
 * `CATALOG_RECHECK_MS` and on demand, and stores each distinct load as a revision. A broken catalog is
 * stored as an error revision and logged, and never replaces the last good revision: /readyz stays up
 * (degraded, with the problems) while a good revision exists, and is down when none ever loaded.
 */
@Injectable()
export class CatalogService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Catalog');
  private readonly loader = new CatalogLoader();
  /** Set when `catalog.backstage` is configured: the catalog comes from Backstage's API, not from a directory. */
  private readonly backstage: BackstageCatalogReader | null;
  private readonly recheckMs: number;
  private lastRevision: string | null = null;
  private state: CatalogState;
  private timer: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private loading: Promise<CatalogState> | null = null;
  /** Why the last load could not be stored (database trouble), shown by /readyz. */
  private failure: string | null = null;

  constructor(
    private readonly repository: CatalogRepository,
    private readonly readiness: ReadinessRegistry,
    @InjectSettings() settings: Settings,
  ) {
    const backstage = settings.catalog?.backstage;
    this.backstage = backstage ? new BackstageCatalogReader(backstage) : null;
    this.recheckMs = backstage ? backstage.refreshSeconds * 1000 : CATALOG_RECHECK_MS;
    this.state = { dir: this.backstage?.source ?? settings.paths.catalogDir, current: null, lastError: null };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('catalog', () => this.readinessReport());
    // A database that cannot take the load yet (e.g. not migrated) must not stop the service from starting.
    await this.reloadLogged();
    this.timer = setInterval(() => void this.reloadLogged(), this.recheckMs);
    this.timer.unref();
  }

  /**
   * A load that could not be stored (the database is away) is retried every few seconds until it is, so the service
   * is ready again as soon as the database is back, not at the next scheduled re-check.
   */
  private async reloadLogged(): Promise<void> {
    try {
      await this.reload();
      if (this.failure !== null) this.logger.log('catalog stored again after a failed load');
      this.failure = null;
    } catch (error) {
      this.failure = error instanceof Error ? error.message : String(error);
      this.logger.error(`catalog load could not be stored: ${this.failure}`);
      if (this.timer && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = null;
          void this.reloadLogged();
        }, CATALOG_RETRY_MS);
        this.retry.unref();
      }
    }
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.timer = null;
    this.readiness.unregister('catalog');
  }

  /** The last known state (as of the last load). */
  current(): CatalogState {
    return this.state;
  }

  /** The catalog as `GET /api/v1/catalog` shows it. */
  async view(): Promise<CatalogView> {
    const { dir, current, lastError } = this.state;
    const [services, teams, unowned] = current
      ? await Promise.all([
          this.repository.services(current.id),
          this.repository.teams(current.id),
          this.repository.unownedServices(),
        ])
      : [[], [], await this.repository.unownedServices()];
    return {
      dir,
      current: current && {
        id: current.id,
        revision: current.revision,
        loadedAt: current.loadedAt.toISOString(),
        lastLoadedAt: current.lastLoadedAt.toISOString(),
        files: current.files,
        services,
        teams,
        problems: current.errors,
      },
      lastError: lastError && {
        id: lastError.id,
        revision: lastError.revision,
        loadedAt: lastError.lastLoadedAt.toISOString(),
        files: lastError.files,
        errors: lastError.errors,
      },
      loadFailure: this.failure,
      unownedServices: unowned.map((u) => ({
        service: u.service,
        firstSeenDay: u.firstSeenDay,
        lastSeenDay: u.lastSeenDay,
        cost: moneyJson(u.microdollars),
      })),
    };
  }

  /** Reads the directory now; concurrent callers share one load. */
  reload(): Promise<CatalogState> {
    this.loading ??= this.loadOnce().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async loadOnce(): Promise<CatalogState> {
    const record = await this.read();
    if (record.revision !== this.lastRevision) {
      const row = await this.repository.record(record);
      this.lastRevision = record.revision;
      if (record.status === 'error') {
        this.logger.error(
          `catalog ${this.state.dir} has ${record.errors.length} problem(s); the last good revision stays in force: ${record.errors.map(formatCatalogProblem).join('; ')}`,
        );
      } else {
        this.logger.log(
          `catalog revision ${row.revision} (${record.catalog.components.size} services, ${record.catalog.groups.size} teams) loaded from ${this.state.dir}`,
        );
        if (record.errors.length > 0) {
          this.logger.warn(
            `catalog revision ${row.revision}: ${record.errors.length} entit(ies) skipped or links dropped: ${record.errors.map(formatCatalogProblem).join('; ')}`,
          );
        }
      }
    }
    const [current, lastError] = await Promise.all([this.repository.currentGood(), this.repository.latestError()]);
    this.state = { dir: this.state.dir, current, lastError };
    return this.state;
  }

  /** One load as a record; an unreadable directory is an error revision too (named by its message). */
  private async read(): Promise<CatalogLoadRecord> {
    const sourceDir = this.state.dir;
    try {
      const loaded = this.backstage ? await this.backstage.load() : await this.loader.load(sourceDir);
      return loaded.ok
        ? {
            status: 'ok',
            revision: loaded.revision,
            sourceDir,
            files: loaded.files,
            catalog: loaded.catalog,
            errors: loaded.problems,
          }
        : { status: 'error', revision: loaded.revision, sourceDir, files: loaded.files, errors: loaded.problems };
    } catch (error) {
      const what = this.backstage ? 'cannot read the catalog from Backstage' : 'cannot read the catalog directory';
      const problem: CatalogProblem = {
        file: sourceDir,
        line: 0,
        field: '(directory)',
        message: `${what}: ${error instanceof Error ? error.message : String(error)}`,
      };
      const revision = `unreadable:${createHash('sha256').update(`${sourceDir}\n${problem.message}`).digest('hex')}`;
      return { status: 'error', revision, sourceDir, files: [], errors: [problem] };
    }
  }

  /**
   * up: a good revision and no newer failure. degraded: a good revision is in force but the directory now has
   * errors, there is no catalog directory at all (every service is `__unowned__`), or the last load could not be
   * stored (the database was away: that is the database check's verdict, and the revision in force still holds).
   * down: the catalog has errors and no good revision ever loaded, or nothing could be stored yet.
   */
  private readinessReport(): ReadinessReport {
    const { current, lastError } = this.state;
    const revision = current
      ? { revision: current.revision, revisionId: current.id, loadedAt: current.lastLoadedAt.toISOString() }
      : {};
    if (this.failure !== null)
      return {
        status: current ? 'degraded' : 'down',
        ...revision,
        message: `catalog load could not be stored: ${this.failure}`,
      };
    if (!lastError)
      return current ? { status: 'up', ...revision } : { status: 'down', message: 'no catalog loaded yet' };
    const missingDir = !current && lastError.errors.every((e) => e.field === '(directory)');
    return {
      status: current || missingDir ? 'degraded' : 'down',
      ...revision,
      message: current
        ? 'the catalog on disk has errors; the last good revision stays in force'
        : 'the catalog has errors and no good revision was ever loaded',
      errors: lastError.errors.map(formatCatalogProblem),
    };
  }
}
