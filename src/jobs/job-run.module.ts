import { Global, Module } from '@nestjs/common';
import { JobRunRepository } from './job-run.repository';

/** Exports `JobRunRepository` (the `job_runs` table) to every module. */
@Global()
@Module({
  providers: [JobRunRepository],
  exports: [JobRunRepository],
})
export class JobRunModule {}
