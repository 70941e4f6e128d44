import {
  BadRequestException,
  Controller,
  Get,
  NotFoundException,
  Param,
  Query,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { sendProfileDownload } from '../api/profile-download';
import { pagePeriod, periodDays } from '../domain/dashboard';
import { ProfileTreeService } from '../profile-trees/profile-tree.service';
import { DashboardAuthGuard } from './dashboard-auth.guard';
import { DashboardErrorFilter } from './dashboard-error.filter';
import { DashboardViewService } from './dashboard-view.service';
import { FlameGraphService } from './flamegraph.service';

/** The data of the pages' flame graphs (JSON for `reports/assets/flamegraph.js`) and a service's profile downloads. */
@ApiExcludeController()
@Controller()
@UseGuards(DashboardAuthGuard)
@UseFilters(DashboardErrorFilter)
export class FlameGraphController {
  constructor(
    private readonly flamegraphs: FlameGraphService,
    private readonly views: DashboardViewService,
    private readonly trees: ProfileTreeService,
  ) {}

  @Get('flamegraphs/services/:service')
  async service(@Param('service') service: string, @Query() query: Record<string, unknown>, @Res() res: Response) {
    const period = pagePeriod(query, this.views.clock());
    sendJson(res, await this.flamegraphs.service(service, period));
  }

  @Get('flamegraphs/teams/:team')
  async team(@Param('team') team: string, @Query() query: Record<string, unknown>, @Res() res: Response) {
    const period = pagePeriod(query, this.views.clock());
    const services = await this.views.teamServices(team, period);
    sendJson(res, await this.flamegraphs.team(team, services, period));
  }

  @Get('flamegraphs/regressions/:fingerprint')
  async regression(@Param('fingerprint') fingerprint: string, @Res() res: Response) {
    sendJson(res, await this.flamegraphs.regression(await this.views.finding(fingerprint)));
  }

  /** The merged profile of a service for the page's period: pprof (Go's default.pgo), speedscope or folded text. */
  @Get('services/:service/profile')
  async profile(@Param('service') service: string, @Query() query: Record<string, unknown>, @Res() res: Response) {
    const period = pagePeriod(query, this.views.clock());
    const format = query.format ?? 'pprof';
    if (format !== 'pprof' && format !== 'speedscope' && format !== 'folded')
      throw new BadRequestException('format: one of pprof, speedscope, folded');
    const { fromDay, toDay } = periodDays(period);
    const read = await this.trees.readTree(service, fromDay, toDay);
    if (!read) throw new NotFoundException(`no stored profile of ${service} between ${fromDay} and ${toDay}`);
    res.setHeader('Cache-Control', 'no-store');
    sendProfileDownload(res, read.tree, `${service}-${fromDay}-${toDay}`, format);
  }
}

function sendJson(res: Response, body: unknown): void {
  res.setHeader('Cache-Control', 'no-store');
  res.type('application/json').send(JSON.stringify(body));
}
