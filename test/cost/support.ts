import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource, EntityManager } from 'typeorm';
import { CatalogLoader } from '../../src/catalog/catalog.loader';
import { CatalogRepository } from '../../src/catalog/catalog.repository';
import { priceSettingsSchema } from '../../src/domain/cost';
import { cpuNanoseconds, foldProfile, serializeFold, type Fold } from '../../src/domain/profile';
import { AttributionRepository } from '../../src/cost/attribution.repository';
import { AttributionService, type AttributionSettings } from '../../src/cost/attribution.service';
import { FunctionDayRepository } from '../../src/cost/function-day.repository';
import { FunctionDictionary } from '../../src/cost/function-dictionary';
import { ProfileRepository } from '../../src/profiles/profile.repository';

export const REPO = path.resolve(__dirname, '..', '..');
export const DEMO = path.join(REPO, 'demo', 'profiles');
export const CATALOG_DIR = path.join(REPO, 'catalog');
export const LABEL_KEYS = ['endpoint', 'tenant', 'version'];
export const HOUR = 3_600_000;
/** The demo's six windows start at these hours of 2026-11-21 (UTC). */
export const DEMO_DAY = '2026-11-21';

/** Prices as a settings file would give them: 0.0316 $/core-hour, checkout at 0.05. */
export const SETTINGS: AttributionSettings = {
  ...priceSettingsSchema.parse({
    currency: 'USD',
    prices: [
      { costPerCoreHour: '0.0316', effectiveFrom: '2026-01-01' },
      { costPerCoreHour: '0.05', effectiveFrom: '2026-01-01', scope: { service: 'checkout' } },
    ],
  }),
  labels: { keys: LABEL_KEYS },
};

/** One real demo profile, folded as the pull path folds it. */
export interface DemoProfile {
  readonly service: string;
  /** Window start of the file (from its name). */
  readonly start: Date;
  readonly bytes: Buffer;
  readonly fold: Fold;
  readonly cpu: bigint;
}

/** Every demo profile (6 services × 6 windows), or those of `services`. */
export function demoProfiles(services?: readonly string[]): DemoProfile[] {
  const out: DemoProfile[] = [];
  for (const service of readdirSync(DEMO).sort()) {
    if (services && !services.includes(service)) continue;
    for (const file of readdirSync(path.join(DEMO, service)).sort()) {
      const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.pb\.gz$/.exec(file);
      if (!m) continue;
      const bytes = readFileSync(path.join(DEMO, service, file));
      const fold = foldProfile(bytes, { labelKeys: LABEL_KEYS });
      out.push({
        service,
        start: new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`),
        bytes,
        fold,
        cpu: cpuNanoseconds(fold) as bigint,
      });
    }
  }
  return out;
}

/** Stores a demo profile into the window starting at `start` (default: its own), as source `demo`. */
export async function storeProfile(
  db: DataSource,
  p: DemoProfile,
  options: { start?: Date; source?: string; salt?: string; raw?: boolean } = {},
): Promise<void> {
  const start = options.start ?? p.start;
  const digest = createHash('sha256')
    .update(p.bytes)
    .update(options.salt ?? '')
    .digest('hex');
  await new ProfileRepository(db).insert({
    source: options.source ?? 'demo',
    service: p.service,
    profileType: 'cpu:nanoseconds',
    windowStart: start,
    windowEnd: new Date(start.getTime() + HOUR),
    digest,
    seriesLabels: {},
    byteSize: p.bytes.length,
    sampleCount: p.fold.sampleCount,
    cpuNanoseconds: p.cpu,
    wallOnly: false,
    fold: serializeFold(p.fold),
    raw: options.raw ? p.bytes : null,
  });
}

/** Loads the repository's example catalog as a good revision. */
export async function loadExampleCatalog(db: DataSource, dir = CATALOG_DIR): Promise<void> {
  const loaded = await new CatalogLoader().load(dir);
  if (!loaded.ok) throw new Error(`example catalog has problems: ${JSON.stringify(loaded.problems)}`);
  await new CatalogRepository(db).record({
    status: 'ok',
    revision: loaded.revision,
    sourceDir: dir,
    files: loaded.files,
    catalog: loaded.catalog,
    errors: loaded.problems,
  });
}

export function attributionService(db: DataSource, settings: AttributionSettings = SETTINGS): AttributionService {
  return new AttributionService(
    new ProfileRepository(db),
    new CatalogRepository(db),
    settings,
    new FunctionDictionary(db),
    new AttributionRepository(),
    new FunctionDayRepository(),
  );
}

/** Attributes the hourly window at `start` in its own transaction. */
export function attribute(db: DataSource, service: AttributionService, start: Date) {
  return db.transaction((tx: EntityManager) =>
    service.attributeWindow({ start, end: new Date(start.getTime() + HOUR) }, tx),
  );
}

/** Fact tables without a `window_start` (whole days, and the price schedules), dumped whole. */
const UNWINDOWED_FACT_TABLES = [
  'cost_function_days',
  'cost_service_days',
  'cost_team_days',
  'cost_label_days',
  'cost_provenance_days',
  'price_schedules',
] as const;

export const FACT_TABLES = [
  'cost_windows',
  'cost_service_windows',
  'cost_team_windows',
  'cost_label_windows',
  'cost_function_splits',
  ...UNWINDOWED_FACT_TABLES,
] as const;

/** Every row of every fact table, ordered by all columns: two dumps are equal exactly when the tables are. */
export async function dumpFacts(db: DataSource, windowStart?: Date): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of FACT_TABLES) {
    const filter =
      windowStart && !(UNWINDOWED_FACT_TABLES as readonly string[]).includes(table)
        ? `WHERE window_start = '${windowStart.toISOString()}'`
        : '';
    const rows = (await db.query(`SELECT t::text AS row FROM ${table} t ${filter} ORDER BY 1`)) as Array<{
      row: string;
    }>;
    out[table] = rows.map((r) => r.row);
  }
  return out;
}
