import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pino from 'pino';
import { loadSettings, type SettingsOverrides } from '../../src/config/settings.loader';
import type { Settings } from '../../src/config/settings.schema';
import { createRootLogger } from '../../src/logging/root-logger';
import { startServer } from '../../src/server/bootstrap';
import { testDatabaseUrl } from './database';

export interface TestAppOptions {
  /** Deep-merged over the test defaults (port 0 on 127.0.0.1, this file's database, a temp data dir, no scheduled jobs, no demo). */
  readonly settings?: SettingsOverrides;
  /** Another database than this file's copy of the migrated template (e.g. an empty one). */
  readonly databaseUrl?: string;
  /** Default false: the global setup migrated the template already. */
  readonly migrateOnStart?: boolean;
  /** Log level captured into `logs`; default info. */
  readonly logLevel?: Settings['logging']['level'];
  /** Modules added to the application (e.g. a test's own job). */
  readonly modules?: readonly Type[];
}

export interface TestApp {
  readonly baseUrl: string;
  readonly app: NestExpressApplication;
  readonly settings: Settings;
  /** Every log record the app wrote so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Starts the real application (same wiring as `flamebill serve`) on a random port of 127.0.0.1 against
 * this test file's database, for tests over real HTTP. Logs are captured, not printed.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? (await testDatabaseUrl());
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flamebill-app-'));
  const settings = loadSettings({
    env: {},
    cwd: REPO_ROOT,
    configFile: null,
    overrides: mergeOverrides(
      {
        server: { port: 0, host: '127.0.0.1' },
        database: { url: databaseUrl },
        paths: { dataDir },
        logging: { level: options.logLevel ?? 'info' },
        // Jobs run when a test calls them: no cron ticks and no demo rows in a test's database.
        schedules: { enabled: false, demo: false },
      },
      options.settings ?? {},
    ),
  });
  const lines: string[] = [];
  const logger = createRootLogger(settings.logging.level, {
    write: (line: string) => void lines.push(line),
  } as pino.DestinationStream);
  const server = await startServer({
    settings,
    databaseUrl,
    logger,
    migrateOnStart: options.migrateOnStart ?? false,
    modules: options.modules,
  });
  return {
    baseUrl: server.url,
    app: server.app,
    settings,
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    close: async () => {
      await server.app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function mergeOverrides(base: SettingsOverrides, extra: SettingsOverrides): SettingsOverrides {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const existing = result[key];
    result[key] =
      isObject(existing) && isObject(value)
        ? mergeOverrides(existing as SettingsOverrides, value as SettingsOverrides)
        : value;
  }
  return result;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
