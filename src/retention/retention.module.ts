import { Module } from '@nestjs/common';
import { CostModule } from '../cost/cost.module';
import { ProfileTreesModule } from '../profile-trees/profile-trees.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { RetentionJob } from './retention.job';

/** Job `retention` (`retention` settings): asks the owners of profiles, work items and cost facts to drop what aged out. */
@Module({
  imports: [ProfilesModule, CostModule, ProfileTreesModule],
  providers: [RetentionJob],
  exports: [RetentionJob],
})
export class RetentionModule {}
