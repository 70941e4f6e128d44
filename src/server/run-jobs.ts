import { loadSettings } from '../config/settings.loader';
import { createRootLogger } from '../logging/root-logger';

/**
 * `flamebill jobs`: the scheduled jobs without HTTP, as the child process `flamebill serve` starts (`JobsProcess`).
 * Runs on DATABASE_URL (the parent hands its database over, embedded or not) until SIGTERM, or until the parent's
 * IPC channel closes (the parent stopped or was killed).
 */
export async function runJobsProcess(): Promise<void> {
  const loaded = loadSettings();
  const settings = { ...loaded, schedules: { ...loaded.schedules, enabled: true, process: 'inline' as const } };
  const logger = createRootLogger(settings.logging.level).child({ role: 'jobs' });
  const databaseUrl = settings.database.url;
  if (!databaseUrl) throw new Error('flamebill jobs runs on DATABASE_URL (flamebill serve hands it its database)');
  const { createAppContext } = await import('./bootstrap.js');
  const context = await createAppContext({ settings, databaseUrl, logger, migrateOnStart: false });
  let closing: Promise<void> | null = null;
  const close = (why: string): void => {
    closing ??= (async () => {
      logger.info(`jobs process stopping: ${why}`);
      await context.close();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => close('SIGTERM'));
  process.on('SIGINT', () => undefined); // Ctrl-C reaches the whole group: the parent stops this process in order
  process.on('disconnect', () => close('the serving process went away'));
  process.send?.('ready');
  logger.info(
    `jobs process ${process.pid} running the scheduled jobs for flamebill serve ${process.env.FLAMEBILL_JOBS_OF ?? '?'}`,
  );
}
