import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { DemoLoader } from './demo.loader';
import { JOB_NAMES, JobsService, type JobName } from './jobs.service';

/**
 * Starts the scheduled jobs on the cron expressions of `schedules` (UTC). A tick while the same job is
 * still running in this process is skipped: the running one already covers it, and another replica's
 * run shares the work through the queue anyway.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  private readonly running = new Map<JobName, Promise<unknown>>();

  constructor(
    @InjectSettings() private readonly settings: Settings,
    private readonly registry: SchedulerRegistry,
    private readonly jobs: JobsService,
    private readonly demo: DemoLoader,
  ) {}

  onApplicationBootstrap(): void {
    const schedules = this.settings.schedules;
    if (!schedules.enabled) {
      this.logger.log('scheduled jobs are off (schedules.enabled: false)');
      return;
    }
    for (const job of JOB_NAMES) {
      const cron = CronJob.from({ cronTime: schedules[job], onTick: () => void this.trigger(job), timeZone: 'UTC', start: true });
      this.registry.addCronJob(`flamebill-${job}`, cron);
    }
    this.logger.log(`scheduled ${JOB_NAMES.map((j) => `${j} "${schedules[j]}"`).join(', ')} (UTC)`);
    if (schedules.demo) void this.loadDemo();
  }

  async onApplicationShutdown(): Promise<void> {
    for (const name of this.registry.getCronJobs().keys()) if (name.startsWith('flamebill-')) this.registry.deleteCronJob(name);
    await Promise.allSettled(this.running.values());
  }

  /** Runs `job` now unless it is already running here; resolves when it ends. */
  trigger(job: JobName): Promise<unknown> {
    const current = this.running.get(job);
    if (current) {
      this.logger.log(`${job}: previous run still going, tick skipped`);
      return current;
    }
    const started = this.jobs
      .run(job)
      .then((summary) => {
        const line = `${job} ${summary.status} ${JSON.stringify(summary.counts)}`;
        if (summary.status === 'failed') this.logger.warn(`${line}: ${summary.errors.slice(0, 3).join('; ')}`);
        else this.logger.log(line);
      })
      .catch((error: unknown) => this.logger.error(`${job} crashed: ${error instanceof Error ? error.stack : String(error)}`))
      .finally(() => this.running.delete(job));
    this.running.set(job, started);
    return started;
  }

  private async loadDemo(): Promise<void> {
    try {
      const loaded = await this.demo.loadIfEmpty();
      if (loaded > 0) await this.trigger('attribute');
    } catch (error) {
      this.logger.error(`loading the demo profiles failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
