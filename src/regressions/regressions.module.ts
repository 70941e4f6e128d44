import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CatalogModule } from '../catalog/catalog.module';
import { CostModule } from '../cost/cost.module';
import { ProfileTreesModule } from '../profile-trees/profile-trees.module';
import { RegressionRepository } from './regression.repository';
import { RegressionScanService } from './regression-scan.service';
import { RegressionsJob } from './regressions.job';
import { RegressionsService } from './regressions.service';
import { TicketDeliveryJob } from './ticket-delivery.job';
import { TicketDeliveryService } from './ticket-delivery.service';
import { TicketFlameGraphService } from './ticket-flame-graph.service';

/** Regression detection and tickets: jobs `regressions` and `ticket-delivery`, findings, outbox and tickets. */
@Module({
  imports: [CatalogModule, CostModule, ProfileTreesModule],
  providers: [
    {
      provide: RegressionRepository,
      useFactory: (db: DataSource) => new RegressionRepository(db),
      inject: [DataSource],
    },
    RegressionScanService,
    TicketFlameGraphService,
    TicketDeliveryService,
    RegressionsService,
    RegressionsJob,
    TicketDeliveryJob,
  ],
  exports: [RegressionsService, RegressionScanService, TicketDeliveryService, RegressionRepository],
})
export class RegressionsModule {}
