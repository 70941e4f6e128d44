import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { CatalogModule } from './catalog/catalog.module';
import { SettingsModule } from './config/settings.module';
import { CostModule } from './cost/cost.module';
import type { Settings } from './config/settings.schema';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { IngestModule } from './ingest/ingest.module';
import { JobRunModule } from './jobs/job-run.module';
import { JobsModule } from './jobs/jobs.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';

export interface AppModuleOptions {
  readonly settings: Settings;
  /** The database URL, resolved before Nest starts (DATABASE_URL or the embedded server). */
  readonly databaseUrl: string;
  readonly logger: Logger;
  /** Overrides `settings.database.migrateOnStart` (tests migrate once in global setup). */
  readonly migrateOnStart?: boolean;
}

/**
 * The flamebill application. Capability modules go in the static `imports` list below; the
 * infrastructure they rely on (settings, logging, database, scheduler) is global and comes from
 * `forRoot`, because it depends on settings validated before Nest starts.
 */
@Module({
  imports: [
    HealthModule,
    MetricsModule,
    JobRunModule,
    IngestModule,
    JobsModule,
    CatalogModule,
    CostModule,
    // Capability modules (catalog, cost, sources, ingest, api, ...) are added here.
  ],
})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    const { settings } = options;
    return {
      module: AppModule,
      imports: [
        SettingsModule.forRoot(settings),
        LoggingModule.forRoot(options.logger),
        DatabaseModule.forRoot({
          url: options.databaseUrl,
          poolSize: settings.database.poolSize,
          migrateOnStart: options.migrateOnStart ?? settings.database.migrateOnStart,
          logger: options.logger,
        }),
        ScheduleModule.forRoot(),
      ],
    };
  }
}
