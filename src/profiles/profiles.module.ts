import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SETTINGS } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { ProfileStoreService } from './profile-store.service';
import { ProfileRepository } from './profile.repository';
import { CompactPushesJob } from './compact-pushes.job';
import { PushCompactionService } from './push-compaction.service';

/**
 * The `profiles` table: `ProfileStoreService` for writers (push, pull), `ProfileRepository` for readers (cost); job
 * `compact-pushes` keeps the pushes' merges (`profile_push_merges`) up to date between attributions.
 */
@Module({
  providers: [
    { provide: ProfileRepository, useFactory: (db: DataSource) => new ProfileRepository(db), inject: [DataSource] },
    {
      provide: ProfileStoreService,
      useFactory: (profiles: ProfileRepository, settings: Settings) =>
        new ProfileStoreService(profiles, settings.ingest.insertBatch),
      inject: [ProfileRepository, SETTINGS],
    },
    PushCompactionService,
    CompactPushesJob,
  ],
  exports: [ProfileRepository, ProfileStoreService, PushCompactionService],
})
export class ProfilesModule {}
