import { Controller, Get, Header, Param, Query, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { pagePeriod } from '../domain/dashboard';
import { DashboardAuthGuard } from './dashboard-auth.guard';
import { DashboardErrorFilter } from './dashboard-error.filter';
import { DashboardPages } from './dashboard-pages';
import { DashboardViewService } from './dashboard-view.service';

/**
 * The dashboard's pages, server-rendered (numbers and tables need no JavaScript; charts and flame graphs enhance them).
 * Thin: the view service builds each page from the query service, the renderer prints it.
 */
@ApiExcludeController()
@Controller()
@UseGuards(DashboardAuthGuard)
@UseFilters(DashboardErrorFilter)
export class DashboardController {
  constructor(
    private readonly views: DashboardViewService,
    private readonly pages: DashboardPages,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async overview(@Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const period = pagePeriod(query, this.views.clock());
    this.pages.send(res, 'overview', { title: 'Overview', nav: 'overview', ...(await this.views.overview(period)) });
  }

  @Get('teams/:team')
  @Header('Cache-Control', 'no-store')
  async team(@Param('team') team: string, @Query() query: Record<string, unknown>, @Res() res: Response) {
    const period = pagePeriod(query, this.views.clock());
    this.pages.send(res, 'team', { title: team, nav: 'team', ...(await this.views.team(team, period)) });
  }

  @Get('services/:service')
  @Header('Cache-Control', 'no-store')
  async service(@Param('service') service: string, @Query() query: Record<string, unknown>, @Res() res: Response) {
    const period = pagePeriod(query, this.views.clock());
    this.pages.send(res, 'service', { title: service, nav: 'service', ...(await this.views.service(service, period)) });
  }

  @Get('functions/:name')
  @Header('Cache-Control', 'no-store')
  async function(@Param('name') name: string, @Query() query: Record<string, unknown>, @Res() res: Response) {
    const period = pagePeriod(query, this.views.clock());
    this.pages.send(res, 'function', { title: name, nav: 'function', ...(await this.views.function(name, period)) });
  }

  @Get('regressions/:fingerprint')
  @Header('Cache-Control', 'no-store')
  async regression(@Param('fingerprint') fingerprint: string, @Res() res: Response) {
    const view = await this.views.regression(fingerprint);
    this.pages.send(res, 'regression', { title: `${view.function} in ${view.service}`, nav: 'regression', ...view });
  }
}
