import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { CatalogModule } from '../catalog/catalog.module';
import { CostModule } from '../cost/cost.module';
import { JobRunModule } from '../jobs/job-run.module';
import { ApiErrorFilter } from './api-error.filter';
import { ApiResponseInterceptor } from './api-response.interceptor';
import { AuditController } from './audit/audit.controller';
import { AuditRepository } from './audit/audit.repository';
import { AuditService } from './audit/audit.service';
import { API_CLOCK, ApiKeyGuard } from './auth/api-key.guard';
import { ApiKeyRepository } from './auth/api-key.repository';
import { ApiKeyService } from './auth/api-key.service';
import { ReaderSessionService } from './auth/reader-session.service';
import { CatalogApiService } from './catalog-api.service';
import { CatalogController } from './catalog.controller';
import { CostMetricsService } from './cost-metrics.service';
import { CostsController } from './costs.controller';
import { CostsService } from './costs.service';
import { ExportsController } from './exports.controller';
import { FocusExportService } from './focus-export.service';
import { LeaderboardsController } from './leaderboards.controller';
import { OrganisationController } from './organisation.controller';
import { OrganisationService } from './organisation.service';
import { ProfileTreesModule } from '../profile-trees/profile-trees.module';
import { ProfilesController } from './profiles.controller';
import { RegressionsModule } from '../regressions/regressions.module';
import { RegressionsController } from './regressions.controller';
import { JobsController } from './jobs.controller';

/**
 * The finance API under `/api/v1` (docs/api.md): API keys with scopes on every route there (`ApiKeyGuard`, global),
 * the one error shape (`ApiErrorFilter`), JSON or CSV with caching of closed periods (`ApiResponseInterceptor`),
 * audit rows of export and admin calls. It reads the cost query service and the catalog; the SQL it owns is that of
 * its own tables (`api_keys`, `api_audit`).
 */
@Module({
  imports: [CostModule, CatalogModule, ProfileTreesModule, RegressionsModule, JobRunModule],
  controllers: [
    CostsController,
    OrganisationController,
    LeaderboardsController,
    CatalogController,
    ExportsController,
    AuditController,
    ProfilesController,
    RegressionsController,
    JobsController,
  ],
  providers: [
    { provide: API_CLOCK, useValue: () => Date.now() },
    ApiKeyRepository,
    ApiKeyService,
    ReaderSessionService,
    AuditRepository,
    AuditService,
    CostsService,
    CatalogApiService,
    OrganisationService,
    FocusExportService,
    CostMetricsService,
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_FILTER, useClass: ApiErrorFilter },
    { provide: APP_INTERCEPTOR, useClass: ApiResponseInterceptor },
  ],
  exports: [ApiKeyService, ReaderSessionService, AuditRepository],
})
export class ApiModule {}
