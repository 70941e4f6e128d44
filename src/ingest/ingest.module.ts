import { Module } from '@nestjs/common';
import { ProfilesModule } from '../profiles/profiles.module';
import { IngestBodyShield } from './ingest-body.shield';
import { IngestMetrics } from './ingest-metrics';
import { IngestController } from './ingest.controller';
import { INGEST_CLOCK, IngestService } from './ingest.service';

/** `POST /ingest`: the Pyroscope-compatible push endpoint (see docs/ingest.md). */
@Module({
  imports: [ProfilesModule],
  controllers: [IngestController],
  providers: [IngestBodyShield, IngestMetrics, IngestService, { provide: INGEST_CLOCK, useValue: () => Date.now() }],
})
export class IngestModule {}
