import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { SettingsError } from '../config/settings.error';
import { JobRegistry } from './job-registry';
import { JobRequestRepository, type JobRequest } from './job-request.repository';
import type { RunOptions, RunSummary } from './job-runner';
import { JobsService } from './jobs.service';

/** How often the process running scheduled jobs looks for runs asked for over the API. */
const REQUEST_POLL_MS = 2_000;
/** A running request whose process has not beaten for this long is abandoned. */
const REQUEST_STALE_MS = 120_000;
/** How often the process looks for such requests. */
const STALE_CHECK_MS = 60_000;

/**
 * Starts every registered job on its cron expression: `schedules.<job>` when set, else the job's default, in the
 * job's time zone (UTC unless it says otherwise). A tick while the same job is still running in this process is
 * skipped: the running one already covers it, and another replica's run shares the work through the queue.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  private readonly running = new Map<string, Promise<RunSummary | null>>();
  /** Requests over the API this process is running (their heartbeat), and the poll timer. */
  private readonly requests = new Set<string>();
  private poller: NodeJS.Timeout | null = null;
  private polling = false;
  private lastStaleCheckMs = 0;

  constructor(
    @InjectSettings() private readonly settings: Settings,
    private readonly cron: SchedulerRegistry,
    private readonly registry: JobRegistry,
    private readonly jobs: JobsService,
    private readonly jobRequests: JobRequestRepository,
  ) {}

  onApplicationBootstrap(): void {
    const { enabled, jobs: schedules } = this.settings.schedules;
    for (const name of Object.keys(schedules)) {
      if (!this.registry.has(name)) {
        throw new SettingsError(
          `invalid setting schedules.${name}: no job has that name (jobs: ${this.registry.names().join(', ')})`,
        );
      }
    }
    if (!enabled) {
      // flamebill serve turns them off in its own process when its jobs process runs them (schedules.process: separate).
      this.logger.log('no scheduled jobs run in this process (schedules.enabled: false here)');
      return;
    }
    void this.jobs.abandonStaleRuns().catch(() => undefined);
    const started: string[] = [];
    for (const { meta } of this.registry.list()) {
      const cronTime = schedules[meta.name] ?? meta.defaultSchedule;
      const timeZone = meta.timeZone?.(this.settings) ?? 'UTC';
      const job = CronJob.from({ cronTime, onTick: () => void this.trigger(meta.name), timeZone, start: true });
      this.cron.addCronJob(`flamebill-${meta.name}`, job);
      started.push(`${meta.name} "${cronTime}"${timeZone === 'UTC' ? '' : ` (${timeZone})`}`);
    }
    this.logger.log(`scheduled ${started.join(', ')} (UTC unless noted)`);
    this.poller = setInterval(() => void this.pollRequests(), REQUEST_POLL_MS);
    this.poller.unref();
  }

  /**
   * Takes the runs asked for over the API (`job_requests`) and runs them here, where scheduled jobs run: one request a
   * tick, each after a run of the same job already going. Also beats for the requests running here and marks those
   * whose process stopped as abandoned.
   */
  async pollRequests(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      await this.jobRequests.heartbeat([...this.requests]);
      // Dead processes are rare and a request waits minutes to be called abandoned: once a minute is enough.
      if (Date.now() - this.lastStaleCheckMs >= STALE_CHECK_MS) {
        this.lastStaleCheckMs = Date.now();
        await this.jobRequests.abandonStale(REQUEST_STALE_MS);
      }
      const request = await this.jobRequests.claimNext();
      if (request) this.runRequest(request);
    } catch (error) {
      this.logger.warn(`job requests: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.polling = false;
    }
  }

  private runRequest(request: JobRequest): void {
    this.requests.add(request.id);
    const o = request.options;
    const options: RunOptions = {
      ...(o.from ? { from: new Date(o.from) } : {}),
      ...(o.to ? { to: new Date(o.to) } : {}),
      ...(o.force ? { force: true } : {}),
      ...(o.dryRun ? { dryRun: true } : {}),
    };
    this.logger.log(`${request.job}: run requested by ${request.requestedBy} (request ${request.id})`);
    void this.trigger(request.job, options)
      .then((summary) =>
        this.jobRequests.finish(
          request.id,
          summary && summary.status !== 'failed' ? 'succeeded' : 'failed',
          summary ? { ...summary } : { status: 'failed', errors: ['the run crashed (see the log)'] },
        ),
      )
      .catch((error: unknown) => this.logger.warn(`job request ${request.id}: ${String(error)}`))
      .finally(() => this.requests.delete(request.id));
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    for (const name of this.cron.getCronJobs().keys()) if (name.startsWith('flamebill-')) this.cron.deleteCronJob(name);
    await Promise.allSettled(this.running.values());
  }

  /**
   * Runs `job` now unless it is already running here; resolves when it ends. With `options` (a range, a dry run) the
   * run is never skipped: it starts once the running one ends, since that one may cover something else.
   */
  trigger(job: string, options?: RunOptions): Promise<RunSummary | null> {
    const current = this.running.get(job);
    if (current && !options) {
      this.logger.log(`${job}: previous run still going, tick skipped`);
      return current;
    }
    const run = (): Promise<RunSummary | null> =>
      this.jobs
        .run(job, options)
        .then((summary) => {
          const line = `${job} ${summary.status} ${JSON.stringify(summary.counts)}`;
          if (summary.status === 'failed') this.logger.warn(`${line}: ${summary.errors.slice(0, 3).join('; ')}`);
          else if (this.registry.has(job) && this.registry.get(job).meta.quiet) this.logger.debug(line);
          else this.logger.log(line);
          return summary;
        })
        .catch((error: unknown) => {
          this.logger.error(`${job} crashed: ${error instanceof Error ? error.stack : String(error)}`);
          return null;
        });
    const started = (current ? current.then(run) : run()).finally(() => {
      if (this.running.get(job) === started) this.running.delete(job);
    });
    this.running.set(job, started);
    return started;
  }
}
