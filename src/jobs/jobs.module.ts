import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobRegistry } from './job-registry';
import { JobRequestRepository } from './job-request.repository';
import { JobsService } from './jobs.service';
import { SchedulerService } from './scheduler.service';
import { WorkQueueRepository } from './work-queue.repository';

/**
 * The job mechanism, and nothing job-specific: the registry of `@Job` providers (each declared by the module that
 * owns it), the work queue any number of replicas share, `JobsService` (run a job once, as `flamebill run` does)
 * and the scheduler. Global, so a capability module declares its jobs without importing this one.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [JobRegistry, WorkQueueRepository, JobsService, SchedulerService, JobRequestRepository],
  exports: [JobRegistry, WorkQueueRepository, JobsService, SchedulerService, JobRequestRepository],
})
export class JobsModule {}
