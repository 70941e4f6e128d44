import { Logger, Module } from '@nestjs/common';
import { SETTINGS } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { CostModule } from '../cost/cost.module';
import { AttributeHandler } from '../cost/attribute.handler';
import { ProfilesModule } from '../profiles/profiles.module';
import { ProfileStoreService } from '../profiles/profile-store.service';
import { createSources, type ProfileSource } from '../sources';
import { DemoLoader } from './demo.loader';
import { ATTRIBUTE_HANDLER, JobsService, PULL_HANDLER, PULL_SOURCES } from './jobs.service';
import { PullHandler } from './pull.handler';
import { RetentionRepository } from './retention.repository';
import { SchedulerService } from './scheduler.service';


/**
 * Scheduled jobs (pull, attribute, retention), their work queue and the demo loader. Exports
 * `JobsService` for `flamebill run JOB` and `SchedulerService` for tests that trigger a tick.
 */
@Module({
  imports: [ProfilesModule, CostModule],
  providers: [
    {
      provide: PULL_SOURCES,
      inject: [SETTINGS],
      useFactory: (settings: Settings): ProfileSource[] => {
        const logger = new Logger('Sources');
        const log = (level: 'debug' | 'log' | 'warn' | 'error') => (fields: Record<string, unknown>, message: string) => logger[level]({ ...fields }, message);
        return createSources(settings.sources, { logger: { debug: log('debug'), info: log('log'), warn: log('warn'), error: log('error') } });
      },
    },
    {
      provide: PULL_HANDLER,
      inject: [SETTINGS, PULL_SOURCES, ProfileStoreService],
      useFactory: (settings: Settings, sources: ProfileSource[], store: ProfileStoreService) => {
        const logger = new Logger('Pull');
        return new PullHandler(
          sources,
          store,
          {
            labelKeys: settings.labels.keys,
            maxLabelValues: settings.labels.maxValuesPerKey,
            maxInflatedBytes: settings.ingest.maxInflatedBytes,
            countWallAsCpu: settings.ingest.countWallAsCpu,
          },
          settings.ingest.keepRaw,
          (fields, message) => logger.log({ ...fields }, message),
        );
      },
    },
    { provide: ATTRIBUTE_HANDLER, useExisting: AttributeHandler },
    RetentionRepository,
    DemoLoader,
    JobsService,
    SchedulerService,
  ],
  exports: [JobsService, SchedulerService, DemoLoader],
})
export class JobsModule {}
