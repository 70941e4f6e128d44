import { BadRequestException, Controller, Get, Param, Query } from '@nestjs/common';
import { LeaderboardQueryError, parseLeaderboardQuery } from './leaderboard.query';
import { LeaderboardService, type LeaderboardJson } from './leaderboard.service';

/**
 * `GET /api/v1/leaderboards/{teams|services|functions|cross-service-functions}?from=&to=&limit=&by=self|inclusive`.
 * Money is returned as strings (micro-units and decimal), never as floats. A bad parameter answers 400
 * `{"statusCode":400,"error":"Bad Request","param":"from","message":"from: ..."}`.
 */
@Controller('api/v1/leaderboards')
export class LeaderboardController {
  constructor(private readonly leaderboards: LeaderboardService) {}

  @Get(':board')
  show(@Param('board') board: string, @Query() query: Record<string, unknown>): Promise<LeaderboardJson> {
    try {
      return this.leaderboards.leaderboard(parseLeaderboardQuery(board, query));
    } catch (error) {
      if (error instanceof LeaderboardQueryError) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', param: error.param, message: error.message });
      throw error;
    }
  }
}
