import { z } from 'zod';
import { priceSettingsSchema } from '../domain/cost/price-settings';
import { ingestSettingsSchema } from './ingest-settings';
import { retentionSettingsSchema, schedulesSettingsSchema } from './jobs-settings';
import { reportSettingsSchema } from './report-settings';
import { dashboardSettingsSchema } from './dashboard-settings';
import { sourceSettingsSchema } from '../sources/source-settings';
import { apiSettingsSchema } from './api-settings';
import { catalogSettingsSchema } from './catalog-settings';
import { regressionsSettingsSchema } from '../domain/regression/regression-settings';

/**
 * The settings file schema (`flamebill.yaml`), composed of one section per capability.
 *
 * Every object is strict: an unknown key is an error, so a typo never silently falls back to a default.
 * Each capability's section is defined next to the code that reads it and composed here.
 */

/** Log levels accepted by pino, lowest volume last. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A `postgres://` or `postgresql://` URL; the driver parses the rest. */
export const postgresUrlSchema = z
  .string()
  .refine((value) => /^postgres(ql)?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
    message: 'expected a URL like postgres://user:password@host:5432/database',
  });

/** `server`: where the HTTP service listens. `PORT` overrides `server.port`. */
export const serverSettingsSchema = z
  .strictObject({
    port: z.number().int().min(0).max(65535).default(3000),
    host: z.string().min(1).default('0.0.0.0'),
  })
  .prefault({});

/** `database`: `DATABASE_URL` overrides `database.url`; with neither, flamebill runs an embedded PostgreSQL. */
export const databaseSettingsSchema = z
  .strictObject({
    url: postgresUrlSchema.optional(),
    migrateOnStart: z.boolean().default(true),
    poolSize: z.number().int().min(1).max(200).default(10),
  })
  .prefault({});

/** `logging`: `LOG_LEVEL` overrides `logging.level`. */
export const loggingSettingsSchema = z
  .strictObject({
    level: z.enum(LOG_LEVELS).default('info'),
  })
  .prefault({});

/** `paths`: local state. `FLAMEBILL_DATA_DIR` and `FLAMEBILL_CATALOG_DIR` override them; relative paths resolve against the working directory. */
export const pathsSettingsSchema = z
  .strictObject({
    dataDir: z.string().min(1).default('./data'),
    catalogDir: z.string().min(1).default('./catalog'),
  })
  .prefault({});

/** A profile label key as Pyroscope and pprof write them. */
const labelKeySchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'expected a label name such as env or k8s.namespace');

/**
 * `labels`: which profile labels are kept on cost facts, and how many distinct values per key before
 * the rest fold into `__other__` (bounded cardinality keeps the fact tables small).
 */
export const labelsSettingsSchema = z
  .strictObject({
    // The seed's standard labels: per-version trees and regressions and per-endpoint costs work out of the box.
    keys: z.array(labelKeySchema).default(['version', 'endpoint']),
    maxValuesPerKey: z.number().int().min(1).max(100_000).default(100),
  })
  .prefault({});

/** The whole settings file. */
export const settingsFileSchema = z.strictObject({
  server: serverSettingsSchema,
  database: databaseSettingsSchema,
  logging: loggingSettingsSchema,
  paths: pathsSettingsSchema,
  labels: labelsSettingsSchema,
  // currency, prices, cost: see docs/cost-model.md.
  ...priceSettingsSchema.shape,
  sources: sourceSettingsSchema,
  catalog: catalogSettingsSchema,
  ingest: ingestSettingsSchema,
  schedules: schedulesSettingsSchema,
  retention: retentionSettingsSchema,
  report: reportSettingsSchema,
  api: apiSettingsSchema,
  dashboard: dashboardSettingsSchema,
  regressions: regressionsSettingsSchema,
});

/** What the settings file and environment may contain before defaults apply. */

/** Validated settings: defaults applied, paths absolute, plus where they came from. */
export type Settings = z.output<typeof settingsFileSchema> & {
  /** Absolute path of the settings file that was read, or null when none exists. */
  readonly configFile: string | null;
  /** Settings keys (dotted) whose value came from an environment variable, and that variable: errors name it. */
  readonly envSources: Readonly<Record<string, string>>;
};
