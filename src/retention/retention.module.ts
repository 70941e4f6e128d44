import { Module } from '@nestjs/common';
import { ApiModule } from '../api/api.module';
import { CostModule } from '../cost/cost.module';
import { ProfileTreesModule } from '../profile-trees/profile-trees.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { RetentionJob } from './retention.job';

/**
 * Job `retention` (`retention` settings): asks the owners of profiles, work items, cost facts, the API's audit rows and
 * job requests to drop what aged out.
 */
@Module({
  imports: [ProfilesModule, CostModule, ProfileTreesModule, ApiModule],
  providers: [RetentionJob],
  exports: [RetentionJob],
})
export class RetentionModule {}
