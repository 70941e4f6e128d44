import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CostModule } from '../cost/cost.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { ProfileTreeRepository } from './profile-tree.repository';
import { ProfileTreeService } from './profile-tree.service';
import { ProfileTreesJob } from './profile-trees.job';

/**
 * Merged call trees per (service, window), (service, UTC day) and version: job `profile-trees` (`ProfileTreeService`)
 * keeps them up to date for attributed windows; `ProfileTreeRepository` is what readers (flame graphs, diffs, PGO export) and retention use.
 */
@Module({
  imports: [ProfilesModule, CostModule],
  providers: [
    {
      provide: ProfileTreeRepository,
      useFactory: (db: DataSource) => new ProfileTreeRepository(db),
      inject: [DataSource],
    },
    ProfileTreeService,
    ProfileTreesJob,
  ],
  exports: [ProfileTreeRepository, ProfileTreeService],
})
export class ProfileTreesModule {}
