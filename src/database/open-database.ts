import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Settings } from '../config/settings.schema';
import { createDataSource } from './data-source';
import { openDatabaseTarget, type DatabaseTarget } from './database-target';

/** A database session for a one-shot CLI command. */
export interface CliDatabase {
  readonly dataSource: DataSource;
  readonly target: DatabaseTarget;
  /** Closes the DataSource, then stops the embedded server if this command started it. */
  close(): Promise<void>;
}

/**
 * Opens the database for a CLI command exactly as the service would: `DATABASE_URL`, or the embedded
 * server of `FLAMEBILL_DATA_DIR` (shared with a running `flamebill serve`, else started for the
 * duration of the command). Does not migrate; call `runMigrations` when the command needs it.
 */
export async function openCliDatabase(
  settings: Settings,
  logger: Logger,
  applicationName = 'flamebill-cli',
): Promise<CliDatabase> {
  const target = await openDatabaseTarget(settings, {
    role: 'cli',
    log: (message) => logger.info({ context: 'Database' }, message),
  });
  const dataSource = createDataSource({
    url: target.url,
    poolSize: Math.min(settings.database.poolSize, 4),
    applicationName,
    logger,
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    await target.release();
    throw error;
  }
  return {
    dataSource,
    target,
    close: async () => {
      try {
        await dataSource.destroy();
      } finally {
        await target.release();
      }
    },
  };
}
