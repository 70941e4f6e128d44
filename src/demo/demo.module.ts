import { Module } from '@nestjs/common';
import { ProfilesModule } from '../profiles/profiles.module';
import { PullModule } from '../pull/pull.module';
import { DemoLoader } from './demo.loader';

/** The demo a first start shows: the real profiles of `demo/profiles`, loaded when nothing else is configured. */
@Module({
  imports: [ProfilesModule, PullModule],
  providers: [DemoLoader],
  exports: [DemoLoader],
})
export class DemoModule {}
