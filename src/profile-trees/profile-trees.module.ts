import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ProfilesModule } from '../profiles/profiles.module';
import { ProfileTreeRepository } from './profile-tree.repository';
import { ProfileTreeService } from './profile-tree.service';

/**
 * Merged call trees per (service, window), (service, UTC day) and version: `ProfileTreeService` keeps them up to date
 * when attribution runs; `ProfileTreeRepository` is what readers (flame graphs, diffs, PGO export) and retention use.
 */
@Module({
  imports: [ProfilesModule],
  providers: [{ provide: ProfileTreeRepository, useFactory: (db: DataSource) => new ProfileTreeRepository(db), inject: [DataSource] }, ProfileTreeService],
  exports: [ProfileTreeRepository, ProfileTreeService],
})
export class ProfileTreesModule {}
