import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { LeaderboardQueryError, parseLeaderboardQuery } from '../cost/leaderboard.query';
import { LeaderboardService, type LeaderboardJson } from '../cost/leaderboard.service';
import { ParamError } from './api-error';
import { ApiDoc, FORMAT_QUERY } from './api-doc.decorator';
import { format, parseQuery, type ParamParser } from './api-query';
import { CsvTable } from './api-response.interceptor';
import { flattenRows } from './flatten';

const text: ParamParser<string> = (value) => value;

const EXAMPLE = {
  board: 'services',
  by: 'self',
  period: { from: '2026-11-21T00:00:00.000Z', to: '2026-11-22T00:00:00.000Z' },
  previousPeriod: { from: '2026-11-20T00:00:00.000Z', to: '2026-11-21T00:00:00.000Z' },
  currency: 'USD',
  defaultPriced: false,
  total: { microdollars: '2994000', dollars: '2.994' },
  rows: [
    {
      rank: 1,
      service: 'checkout',
      team: 'payments',
      cost: { microdollars: '1234567', dollars: '1.234567' },
      previous: { microdollars: '1000000', dollars: '1' },
      change: { microdollars: '234567', dollars: '0.234567', percent: '23.46' },
    },
  ],
};

/**
 * `GET /api/v1/leaderboards/{teams|services|functions|cross-service-functions}?from=&to=&limit=&by=self|inclusive`
 * (read scope). Money as strings (micro-units and decimal), never floats.
 */
@ApiTags('leaderboards')
@Controller('api/v1/leaderboards')
export class LeaderboardsController {
  constructor(private readonly leaderboards: LeaderboardService) {}

  @Get(':board')
  @ApiDoc({
    summary: 'Top lines of a period [from, to) with the change against the previous period of equal length',
    scope: 'read',
    csv: true,
    params: [
      { name: 'board', description: 'teams, services, functions or cross-service-functions', example: 'services' },
    ],
    queries: [
      {
        name: 'from',
        description: 'start (ISO 8601; function boards: a UTC midnight)',
        required: true,
        example: '2026-11-21',
      },
      { name: 'to', description: 'end, exclusive; at most 400 days after from', required: true, example: '2026-11-22' },
      { name: 'limit', description: '1 to 1000 (default 10)' },
      { name: 'by', description: 'self (default) or inclusive', enum: ['self', 'inclusive'] },
      FORMAT_QUERY,
    ],
    example: EXAMPLE,
  })
  @CsvTable((body: LeaderboardJson) => ({ name: `leaderboard-${body.board}`, ...flattenRows(body.rows) }))
  show(@Param('board') board: string, @Query() raw: Record<string, unknown>): Promise<LeaderboardJson> {
    const { format: _format, ...query } = parseQuery(raw, { from: text, to: text, limit: text, by: text, format });
    try {
      return this.leaderboards.leaderboard(parseLeaderboardQuery(board, query));
    } catch (error) {
      if (error instanceof LeaderboardQueryError)
        throw new ParamError(error.param, error.message.replace(/^[^:]+: /, ''));
      throw error;
    }
  }
}
