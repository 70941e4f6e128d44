import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CatalogModule } from '../catalog/catalog.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { AttributeHandler } from './attribute.handler';
import { AttributionService } from './attribution.service';
import { FunctionDictionary } from './function-dictionary';
import { LeaderboardController } from './leaderboard.controller';
import { LeaderboardRepository } from './leaderboard.repository';
import { LeaderboardService } from './leaderboard.service';

/**
 * Cost facts: `AttributionService` (attribute one window into the fact tables, in the caller's transaction),
 * `AttributeHandler` (work items of job `attribute`) and the leaderboards API.
 */
@Module({
  imports: [ProfilesModule, CatalogModule],
  controllers: [LeaderboardController],
  providers: [
    { provide: FunctionDictionary, useFactory: (db: DataSource) => new FunctionDictionary(db), inject: [DataSource] },
    { provide: LeaderboardRepository, useFactory: (db: DataSource) => new LeaderboardRepository(db), inject: [DataSource] },
    AttributionService,
    AttributeHandler,
    LeaderboardService,
  ],
  exports: [AttributionService, AttributeHandler],
})
export class CostModule {}
