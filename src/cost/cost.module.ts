import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CatalogModule } from '../catalog/catalog.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { AttributeHandler } from './attribute.handler';
import { AttributeJob } from './attribute.job';
import { AttributionRepository } from './attribution.repository';
import { AttributionService } from './attribution.service';
import { FunctionDayRepository } from './function-day.repository';
import { COST_QUERY_CLOCK, CostQueryService } from './cost-query.service';
import { CostQueryRepository } from './cost-query.repository';
import { FunctionDictionary } from './function-dictionary';
import { LeaderboardRepository } from './leaderboard.repository';
import { LeaderboardService } from './leaderboard.service';

/**
 * Cost facts: `AttributionService` (attribute one window into the fact tables, in the caller's transaction),
 * job `attribute` (`AttributeJob`, and `AttributeHandler` for its items), the leaderboards (`LeaderboardService`, served by the finance API) and `CostQueryService`,
 * the read model every publisher uses.
 */
@Module({
  imports: [ProfilesModule, CatalogModule],
  providers: [
    { provide: FunctionDictionary, useFactory: (db: DataSource) => new FunctionDictionary(db), inject: [DataSource] },
    {
      provide: LeaderboardRepository,
      useFactory: (db: DataSource) => new LeaderboardRepository(db),
      inject: [DataSource],
    },
    AttributionRepository,
    FunctionDayRepository,
    { provide: CostQueryRepository, useFactory: (db: DataSource) => new CostQueryRepository(db), inject: [DataSource] },
    { provide: COST_QUERY_CLOCK, useValue: () => Date.now() },
    CostQueryService,
    AttributionService,
    AttributeHandler,
    AttributeJob,
    LeaderboardService,
  ],
  exports: [AttributionService, AttributionRepository, CostQueryService, CostQueryRepository, LeaderboardService],
})
export class CostModule {}
