import pino from 'pino';
import { loadSettings, type SettingsOverrides } from '../../src/config/settings.loader';
import { createRootLogger } from '../../src/logging/root-logger';
import { startServer, type RunningServer } from '../../src/server/bootstrap';

/**
 * The real application on a bench database (port 0 on loopback, no scheduled jobs, no demo, only errors logged, to
 * stderr), with
 * `overrides` deep-merged over that: what the benches that time pages or jobs through the app start.
 */
export function startBenchServer(url: string, overrides: SettingsOverrides = {}): Promise<RunningServer> {
  const settings = loadSettings({
    env: {},
    cwd: process.cwd(),
    configFile: null,
    overrides: {
      server: { port: 0, host: '127.0.0.1' },
      database: { url },
      schedules: { enabled: false, demo: false },
      ...overrides,
    },
  });
  const logger = createRootLogger('error', process.stderr as unknown as pino.DestinationStream);
  return startServer({ settings, databaseUrl: url, logger, migrateOnStart: false });
}
