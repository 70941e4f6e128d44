import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiDoc, FORMAT_QUERY, PERIOD_QUERIES } from './api-doc.decorator';
import { ROW_COLUMNS, rowCsv, type RowJson } from './api-json';
import { FUNCTION_EXAMPLE, SERVICE_EXAMPLE, TEAM_EXAMPLE, TEAMS_EXAMPLE } from './api-examples';
import { format, functionName, name, parseQuery, PERIOD_PARAMS, periodOf } from './api-query';
import { CsvTable } from './api-response.interceptor';
import { CostsService } from './costs.service';
import { flattenRows } from './flatten';
import { OrganisationService } from './organisation.service';

type TeamsJson = Awaited<ReturnType<OrganisationService['teams']>>;

/** `GET /api/v1/teams`, `/teams/{team}`, `/services/{service}`, `/functions/{name}` (read scope). */
@ApiTags('organisation')
@Controller('api/v1')
export class OrganisationController {
  constructor(
    private readonly organisation: OrganisationService,
    private readonly costs: CostsService,
  ) {}

  @Get('teams')
  @ApiDoc({
    summary:
      "Every team (catalog and costs, with __unowned__ and __idle__): contacts, parent, the period's own cost and share",
    scope: 'read',
    csv: true,
    queries: [...PERIOD_QUERIES, FORMAT_QUERY],
    example: TEAMS_EXAMPLE,
  })
  @CsvTable((body: TeamsJson) => ({ name: 'teams', ...flattenRows(body.teams) }))
  teams(@Query() raw: Record<string, unknown>) {
    return this.organisation.teams(this.period(raw, true));
  }

  @Get('teams/:team')
  @ApiDoc({
    summary: 'A team: contacts, parent and child teams, its cost of the period and trend, its services',
    scope: 'read',
    params: [{ name: 'team', description: 'team name (catalog Group), __unowned__ or __idle__', example: 'payments' }],
    queries: PERIOD_QUERIES,
    example: TEAM_EXAMPLE,
  })
  team(@Param('team') team: string, @Query() raw: Record<string, unknown>) {
    return this.organisation.team(name(team, 'team'), this.period(raw, false));
  }

  @Get('services/:service')
  @ApiDoc({
    summary: 'A service: owner, cost, CPU time and trend of the period, top functions by self cost',
    scope: 'read',
    params: [{ name: 'service', description: 'service name', example: 'checkout' }],
    queries: PERIOD_QUERIES,
    example: SERVICE_EXAMPLE,
  })
  service(@Param('service') service: string, @Query() raw: Record<string, unknown>) {
    return this.organisation.service(name(service, 'service'), this.period(raw, false));
  }

  @Get('functions/:name')
  @ApiDoc({
    summary: 'A function across services: which services pay for it (self and inclusive)',
    scope: 'read',
    csv: true,
    params: [{ name: 'name', description: 'function name, URL-encoded', example: 'runtime.mallocgc' }],
    queries: [...PERIOD_QUERIES, FORMAT_QUERY],
    example: FUNCTION_EXAMPLE,
  })
  @CsvTable((body: { function: string; services: RowJson[] }) => ({
    name: 'function-services',
    columns: ROW_COLUMNS,
    rows: body.services.map(rowCsv),
  }))
  function(@Param('name') fn: string, @Query() raw: Record<string, unknown>) {
    return this.organisation.function(functionName(fn, 'name'), this.period(raw, true));
  }

  private period(raw: Record<string, unknown>, csv: boolean) {
    const q = parseQuery(raw, csv ? { ...PERIOD_PARAMS, format } : PERIOD_PARAMS);
    return periodOf(q, this.costs.now());
  }
}
