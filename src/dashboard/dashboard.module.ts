import { Module } from '@nestjs/common';
import { ApiModule } from '../api/api.module';
import { CatalogModule } from '../catalog/catalog.module';
import { CostModule } from '../cost/cost.module';
import { ProfileTreesModule } from '../profile-trees/profile-trees.module';
import { RegressionsModule } from '../regressions/regressions.module';
import { AssetsController } from './assets.controller';
import { DashboardAuthGuard } from './dashboard-auth.guard';
import { DashboardErrorFilter } from './dashboard-error.filter';
import { DashboardPages } from './dashboard-pages';
import { DASHBOARD_CLOCK, DashboardViewService } from './dashboard-view.service';
import { DashboardController } from './dashboard.controller';
import { FlameGraphController } from './flamegraph.controller';
import { FlameGraphService } from './flamegraph.service';
import { LoginController } from './login.controller';

/**
 * The team dashboard (docs/dashboard.md): pages over the cost query service, the profile trees and the regressions API;
 * who may read them comes from the API's reader sessions (`dashboard.auth`).
 */
@Module({
  imports: [ApiModule, CostModule, CatalogModule, ProfileTreesModule, RegressionsModule],
  controllers: [DashboardController, FlameGraphController, LoginController, AssetsController],
  providers: [
    { provide: DASHBOARD_CLOCK, useValue: () => Date.now() },
    DashboardViewService,
    DashboardPages,
    DashboardAuthGuard,
    DashboardErrorFilter,
    FlameGraphService,
  ],
})
export class DashboardModule {}
