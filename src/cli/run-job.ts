import { loadSettings } from '../config/settings.loader';
import { openDatabaseTarget } from '../database/database-target';
import { createCliLogger } from '../logging/root-logger';
import type { Type } from '@nestjs/common';
import { startProgress, type Progress } from './progress';

/**
 * `flamebill run JOB`: the same providers as the service, without HTTP and without the scheduler,
 * on the same database (a running service's embedded PostgreSQL is shared). Several `run`s and
 * services may work on one database at once: items are claimed, never done twice.
 * @returns the exit code: 0 when the run succeeded or had nothing to do, 1 when some item failed.
 */
export async function runJob(
  job: string,
  options: {
    from?: Date;
    to?: Date;
    force?: boolean;
    dryRun?: boolean;
    json?: boolean;
    extra?: Record<string, unknown>;
  },
  modules: readonly Type[] = [],
): Promise<number> {
  const loaded = loadSettings();
  const settings = { ...loaded, schedules: { ...loaded.schedules, enabled: false } };
  const logger = createCliLogger(settings.logging.level === 'info' ? 'warn' : settings.logging.level);
  const target = await openDatabaseTarget(settings, {
    role: 'cli',
    log: (message) => logger.info({ context: 'Database' }, message),
  });
  let progress: Progress | null = null;
  try {
    const { createAppContext } = await import('../server/bootstrap.js');
    const { JobsService } = await import('../jobs/jobs.service.js');
    const context = await createAppContext({ settings, databaseUrl: target.url, logger, modules });
    try {
      const abort = new AbortController();
      const onSignal = (): void => abort.abort(new Error('interrupted'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let phase = '';
      let shown = 0;
      const summary = await context.get(JobsService).run(job, {
        from: options.from,
        to: options.to,
        force: options.force === true,
        dryRun: options.dryRun === true,
        extra: options.extra,
        signal: abort.signal,
        progress: (finished, total, itemsOf) => {
          if (itemsOf !== phase) {
            (progress as Progress | null)?.stop();
            progress = startProgress(`${itemsOf} items`, total);
            phase = itemsOf;
            shown = 0;
          }
          if (finished > shown) progress!.increment(finished - shown);
          shown = finished;
        },
      });
      (progress as Progress | null)?.stop();
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else {
        process.stdout.write(
          `${job}: ${summary.status} ${Object.entries(summary.counts)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}\n`,
        );
        for (const error of summary.errors) process.stderr.write(`  ${error}\n`);
      }
      return summary.status === 'failed' ? 1 : 0;
    } finally {
      await context.close();
    }
  } finally {
    (progress as Progress | null)?.stop();
    await target.release();
  }
}
