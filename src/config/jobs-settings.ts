import { z } from 'zod';
import { CronTime } from 'cron';

/** A five- or six-field cron expression, checked by the same parser the scheduler uses. */
const cronSchema = z.string().superRefine((value, ctx) => {
  try {
    new CronTime(value, 'UTC');
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      message: `not a cron expression (${error instanceof Error ? error.message : String(error)})`,
    });
  }
});

/**
 * `schedules`: when the scheduled jobs run and how this replica works through their items. Any other key is
 * `schedules.<job>`, the cron expression of a registered job (e.g. `pull: "5 * * * *"`); a job without one
 * runs on its own default (`flamebill run --help` lists them). Names are checked against the registered jobs
 * when the application starts. Any number of replicas may run the same schedules: items are claimed through
 * PostgreSQL.
 */
export const schedulesSettingsSchema = z
  .object({
    /** Off: the service only ingests pushes and serves; jobs run through `flamebill run JOB`. */
    enabled: z.boolean().default(true),
    /**
     * Where `flamebill serve` runs the scheduled jobs: `separate` (a child process of its own, so attribution never
     * holds up the thread that answers HTTP and pushes) or `inline` (in the serving process: one process less).
     */
    process: z.enum(['separate', 'inline']).default('separate'),
    worker: z
      .strictObject({
        /** Items this replica processes at once. */
        concurrency: z.number().int().min(1).max(64).default(2),
        /** An item whose worker stops renewing its lease for this long is taken over by another replica. */
        leaseSeconds: z.number().int().min(1).max(86_400).default(120),
        /** Attempts before an item stays failed (a forced re-run retries it). */
        maxAttempts: z.number().int().min(1).max(100).default(3),
      })
      .prefault({}),
    /** Load the shipped demo profiles at start when no source is configured and no profile is stored yet. */
    demo: z.boolean().default(true),
  })
  .catchall(cronSchema)
  .prefault({})
  // The cron expressions move under `jobs` once checked, so the rest of the code reads them by job name.
  .transform(({ enabled, process, worker, demo, ...jobs }) => ({
    enabled,
    process,
    worker,
    demo,
    jobs: jobs as Record<string, string>,
  }));

/** `retention`: how long stored data is kept, in days. */
export const retentionSettingsSchema = z
  .strictObject({
    /** Raw profile bytes as received (folds stay for re-attribution). */
    rawProfileDays: z.number().int().min(1).default(30),
    /** Folded profiles, needed to re-attribute a window after a price or catalog change. */
    profileDays: z.number().int().min(1).default(365),
    /**
     * Hourly cost facts and daily function facts, dropped by whole months once the month is entirely older.
     * Daily service and team rollups are kept forever.
     */
    factDays: z.number().int().min(1).default(365),
    /** The API's audit rows and finished job requests (who asked for what, and when). */
    auditDays: z.number().int().min(1).default(400),
  })
  .prefault({});
export type RetentionSettings = z.output<typeof retentionSettingsSchema>;
