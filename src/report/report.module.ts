import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { CostModule } from '../cost/cost.module';
import { MailRepository } from './mail.repository';
import { ReportDeliveryRepository } from './report-delivery.repository';
import { ReportRenderer } from './report-renderer';
import { ReportViewService } from './report-view.service';
import { WeeklyReportJob } from './weekly-report.job';

/** The weekly cost report by email: job `weekly-report`, its views, templates (`reports/`), SMTP and send log. */
@Module({
  imports: [CostModule, CatalogModule],
  providers: [ReportViewService, ReportRenderer, MailRepository, ReportDeliveryRepository, WeeklyReportJob],
  exports: [ReportViewService, ReportRenderer],
})
export class ReportModule {}
