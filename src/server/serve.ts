import type { Logger } from 'pino';
import { loadSettings } from '../config/settings.loader';
import type { Settings } from '../config/settings.schema';
import { openDatabaseTarget, type DatabaseTarget } from '../database/database-target';
import { createRootLogger } from '../logging/root-logger';
import type { RunningServer } from './bootstrap';
import { JobsProcess } from './jobs-process';

/**
 * Validates settings, opens the database (DATABASE_URL, or the embedded PostgreSQL of
 * FLAMEBILL_DATA_DIR), applies migrations, listens, and prints the URL. On SIGINT/SIGTERM it closes
 * the application, then stops the embedded PostgreSQL it started.
 * @throws SettingsError / DatabaseConnectionError with a one-line message before anything starts.
 */
export async function serve(): Promise<void> {
  const loaded = loadSettings();
  const logger = createRootLogger(loaded.logging.level);
  // With separate jobs, this process only serves: the child runs the scheduler (and the first start's demo).
  const separateJobs = loaded.schedules.enabled && loaded.schedules.process === 'separate';
  const settings = separateJobs ? { ...loaded, schedules: { ...loaded.schedules, enabled: false } } : loaded;
  // Load Nest (about a second) while PostgreSQL starts.
  const bootstrap = import('./bootstrap.js');
  bootstrap.catch(() => undefined);
  const target = await openDatabaseTarget(settings, {
    role: 'serve',
    log: (message) => logger.info({ context: 'Database' }, message),
  });
  let server: RunningServer;
  try {
    const { startServer } = await bootstrap;
    server = await startServer({ settings, databaseUrl: target.url, logger });
  } catch (error) {
    await target.release();
    throw error;
  }
  // Checked before the jobs (which load the demo) start: afterwards the profiles table is no longer empty.
  const demo = await willLoadDemo(server, loaded);
  let jobs: JobsProcess | null = null;
  if (separateJobs) {
    jobs = new JobsProcess(target.url, logger);
    const running = jobs;
    const { ReadinessRegistry } = await import('../health/readiness.registry.js');
    server.app.get(ReadinessRegistry).register('jobs', () => running.status());
    jobs.start();
  }
  stopOnSignals(server, target, jobs, logger);
  logger.info(
    {
      url: server.url,
      database: target.displayUrl,
      embedded: target.embedded !== null,
      configFile: settings.configFile,
      jobs: separateJobs ? 'separate process' : settings.schedules.enabled ? 'inline' : 'off',
    },
    `flamebill listening on ${server.url}`,
  );
  const demoNote = demo
    ? `; demo: loading 4 weeks of the shipped demo profiles (a simulated fleet, see demo/README.md), numbers appear within about ${DEMO_READY_SECONDS} s`
    : '';
  logger.info({ dashboard: `${server.url}/`, demo }, `dashboard: ${server.url}/${demoNote}`);
}

/** What the first start's demo takes on a laptop-class machine, with margin (demo/README.md has the measurements). */
const DEMO_READY_SECONDS = 60;

async function willLoadDemo(server: RunningServer, settings: Settings): Promise<boolean> {
  const [{ demoWillLoad }, { DataSource }] = await Promise.all([import('../demo/demo.loader.js'), import('typeorm')]);
  return demoWillLoad(server.app.get(DataSource), settings).catch(() => false);
}

/**
 * First signal: close gracefully (HTTP, jobs, DataSource), then the embedded database. A signal again
 * within a few seconds is the same Ctrl-C delivered twice (the terminal and `npm start` both send it):
 * ignored. A later one exits at once; the next start recovers the database.
 */
function stopOnSignals(server: RunningServer, target: DatabaseTarget, jobs: JobsProcess | null, logger: Logger): void {
  let firstAt = 0;
  const stop = (signal: NodeJS.Signals): void => {
    if (firstAt > 0) {
      if (Date.now() - firstAt < DUPLICATE_SIGNAL_MS) return;
      logger.warn(`${signal} received again: exiting without waiting`);
      process.exit(130);
    }
    firstAt = Date.now();
    logger.info(`${signal} received: stopping`);
    void shutDown(server, target, jobs, logger).then((code) => process.exit(code));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const DUPLICATE_SIGNAL_MS = 3_000;

async function shutDown(
  server: RunningServer,
  target: DatabaseTarget,
  jobs: JobsProcess | null,
  logger: Logger,
): Promise<number> {
  let code = 0;
  // Jobs first: their items finish or give their leases back while the database is still there.
  await jobs?.stop().catch((error: unknown) => logger.error({ err: error }, 'stopping the jobs process failed'));
  try {
    await server.app.close();
  } catch (error) {
    logger.error({ err: error }, 'closing the application failed');
    code = 1;
  }
  try {
    await target.release();
  } catch (error) {
    logger.error({ err: error }, 'stopping the embedded PostgreSQL failed');
    code = 1;
  }
  logger.info('stopped');
  return code;
}
