import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { ApiModule } from './api/api.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { CatalogModule } from './catalog/catalog.module';
import { SettingsModule } from './config/settings.module';
import { CostModule } from './cost/cost.module';
import type { Settings } from './config/settings.schema';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { IngestModule } from './ingest/ingest.module';
import { DemoModule } from './demo/demo.module';
import { JobRunModule } from './jobs/job-run.module';
import { JobsModule } from './jobs/jobs.module';
import { ProfileTreesModule } from './profile-trees/profile-trees.module';
import { PullModule } from './pull/pull.module';
import { ReportModule } from './report/report.module';
import { RetentionModule } from './retention/retention.module';
import { RegressionsModule } from './regressions/regressions.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';

export interface AppModuleOptions {
  readonly settings: Settings;
  /** The database URL, resolved before Nest starts (DATABASE_URL or the embedded server). */
  readonly databaseUrl: string;
  readonly logger: Logger;
  /** Overrides `settings.database.migrateOnStart` (tests migrate once in global setup). */
  readonly migrateOnStart?: boolean;
  /** Modules added to the capability modules (tests register jobs of their own this way). */
  readonly modules?: readonly Type[];
}

/**
 * The flamebill application: health, metrics, push ingest, the job mechanism, the catalog, cost attribution and
 * leaderboards, and the jobs pull, attribute and retention, plus the demo of a first start. Capability modules go in
 * the static `imports` list below (each declares its own jobs with `@Job`); the
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
    PullModule,
    ProfileTreesModule,
    RetentionModule,
    ReportModule,
    RegressionsModule,
    DemoModule,
    ApiModule,
    DashboardModule,
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
        ...(options.modules ?? []),
      ],
    };
  }
}
