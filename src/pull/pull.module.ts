import { Logger, Module } from '@nestjs/common';
import { SETTINGS } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { ProfilesModule } from '../profiles/profiles.module';
import { ProfileStoreService } from '../profiles/profile-store.service';
import { createSources, type ProfileSource } from '../sources';
import { PullHandler } from './pull.handler';
import { PULL_SOURCES, PullJob } from './pull.job';

/** Job `pull`: the configured sources (`sources` settings), the planner and the handler of one service-window. */
@Module({
  imports: [ProfilesModule],
  providers: [
    {
      provide: PULL_SOURCES,
      inject: [SETTINGS],
      useFactory: (settings: Settings): ProfileSource[] => {
        const logger = new Logger('Sources');
        const log = (level: 'debug' | 'log' | 'warn' | 'error') => (fields: Record<string, unknown>, message: string) =>
          logger[level]({ ...fields }, message);
        return createSources(settings.sources, {
          logger: { debug: log('debug'), info: log('log'), warn: log('warn'), error: log('error') },
        });
      },
    },
    {
      provide: PullHandler,
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
    PullJob,
  ],
  exports: [PULL_SOURCES],
})
export class PullModule {}
