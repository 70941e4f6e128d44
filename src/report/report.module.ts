import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { CostModule } from '../cost/cost.module';
import { RegressionsModule } from '../regressions/regressions.module';
import { RegressionsService } from '../regressions/regressions.service';
import { regressionsSource } from './report-regressions';
import { MailRepository } from './mail.repository';
import { ReportDeliveryRepository } from './report-delivery.repository';
import { ReportRenderer } from './report-renderer';
import { REGRESSIONS_SOURCE, ReportViewService } from './report-view.service';
import { WeeklyReportJob } from './weekly-report.job';

/** The weekly cost report by email: job `weekly-report`, its views, templates (`reports/`), SMTP and send log. */
@Module({
  imports: [CostModule, CatalogModule, RegressionsModule],
  providers: [
    { provide: REGRESSIONS_SOURCE, inject: [RegressionsService], useFactory: regressionsSource },
    ReportViewService,
    ReportRenderer,
    MailRepository,
    ReportDeliveryRepository,
    WeeklyReportJob,
  ],
  exports: [ReportViewService, ReportRenderer],
})
export class ReportModule {}
