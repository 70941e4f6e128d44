import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ProfileStoreService } from './profile-store.service';
import { ProfileRepository } from './profile.repository';

/** The `profiles` table: `ProfileStoreService` for writers (push, pull), `ProfileRepository` for readers (cost). */
@Module({
  providers: [
    { provide: ProfileRepository, useFactory: (db: DataSource) => new ProfileRepository(db), inject: [DataSource] },
    ProfileStoreService,
  ],
  exports: [ProfileRepository, ProfileStoreService],
})
export class ProfilesModule {}
