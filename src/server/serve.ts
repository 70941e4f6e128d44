import type { Logger } from 'pino';
import { loadSettings } from '../config/settings.loader';
import { openDatabaseTarget, type DatabaseTarget } from '../database/database-target';
import { createRootLogger } from '../logging/root-logger';
import type { RunningServer } from './bootstrap';

/**
 * Validates settings, opens the database (DATABASE_URL, or the embedded PostgreSQL of
 * FLAMEBILL_DATA_DIR), applies migrations, listens, and prints the URL. On SIGINT/SIGTERM it closes
 * the application, then stops the embedded PostgreSQL it started.
 * @throws SettingsError / DatabaseConnectionError with a one-line message before anything starts.
 */
export async function serve(): Promise<void> {
  const settings = loadSettings();
  const logger = createRootLogger(settings.logging.level);
  // Load Nest (about a second) while PostgreSQL starts.
  const bootstrap = import('./bootstrap.js');
  bootstrap.catch(() => undefined);
  const target = await openDatabaseTarget(settings, { role: 'serve', log: (message) => logger.info({ context: 'Database' }, message) });
  let server: RunningServer;
  try {
    const { startServer } = await bootstrap;
    server = await startServer({ settings, databaseUrl: target.url, logger });
  } catch (error) {
    await target.release();
    throw error;
  }
  stopOnSignals(server, target, logger);
  logger.info(
    { url: server.url, database: target.displayUrl, embedded: target.embedded !== null, configFile: settings.configFile },
    `flamebill listening on ${server.url}`,
  );
}

/**
 * First signal: close gracefully (HTTP, jobs, DataSource), then the embedded database. A signal again
 * within a few seconds is the same Ctrl-C delivered twice (the terminal and `npm start` both send it):
 * ignored. A later one exits at once; the next start recovers the database.
 */
function stopOnSignals(server: RunningServer, target: DatabaseTarget, logger: Logger): void {
  let firstAt = 0;
  const stop = (signal: NodeJS.Signals): void => {
    if (firstAt > 0) {
      if (Date.now() - firstAt < DUPLICATE_SIGNAL_MS) return;
      logger.warn(`${signal} received again: exiting without waiting`);
      process.exit(130);
    }
    firstAt = Date.now();
    logger.info(`${signal} received: stopping`);
    void shutDown(server, target, logger).then((code) => process.exit(code));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const DUPLICATE_SIGNAL_MS = 3_000;

async function shutDown(server: RunningServer, target: DatabaseTarget, logger: Logger): Promise<number> {
  let code = 0;
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
