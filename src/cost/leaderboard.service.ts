import { ConflictException, Injectable } from '@nestjs/common';
import { percentChange } from '../domain/cost';
import { FunctionDictionary } from './function-dictionary';
import { LeaderboardRepository, type Period, type RankedRow } from './leaderboard.repository';
import type { LeaderboardQuery } from './leaderboard.query';
import { moneyJson, type MoneyJson } from '../domain/cost';

/** Change against the previous period: money, and percent as a decimal string with two places (null when previous is 0). */
export interface ChangeJson extends MoneyJson {
  readonly percent: string | null;
}

export interface LeaderboardRowJson {
  readonly rank: number;
  readonly [field: string]: unknown;
  readonly cost: MoneyJson;
  readonly previous: MoneyJson;
  readonly change: ChangeJson;
}

/** JSON of `GET /api/v1/leaderboards/:board`. */
export interface LeaderboardJson {
  readonly board: LeaderboardQuery['board'];
  readonly by: LeaderboardQuery['by'];
  readonly period: { readonly from: string; readonly to: string };
  readonly previousPeriod: { readonly from: string; readonly to: string };
  /** ISO 4217 code of every amount; null when the period has no attributed window. */
  readonly currency: string | null;
  /** True when any window of the period was priced with OpenCost's default price. */
  readonly defaultPriced: boolean;
  /** Attributed windows in the period and the previous one. */
  readonly windows: number;
  readonly previousWindows: number;
  /** Cost of the whole period (all windows, including `__unowned__` and `__idle__`) and its change. */
  readonly total: MoneyJson;
  readonly totalChange: ChangeJson;
  readonly rows: readonly LeaderboardRowJson[];
}

/**
 * Top teams, services, functions and cross-service functions for a period [from, to), each with its change
 * against the previous period of equal length. Inclusive (cum) figures overlap: they are ranked and shown,
 * never added into a total.
 */
@Injectable()
export class LeaderboardService {
  constructor(
    private readonly repository: LeaderboardRepository,
    private readonly functions: FunctionDictionary,
  ) {}

  async leaderboard(query: LeaderboardQuery): Promise<LeaderboardJson> {
    const current: Period = { from: query.from, to: query.to };
    const previous: Period = { from: new Date(2 * query.from.getTime() - query.to.getTime()), to: query.from };
    const [totals, previousTotals, rows] = await Promise.all([
      this.repository.totals(current),
      this.repository.totals(previous),
      this.rows(query, current, previous),
    ]);
    const currencies = [...new Set([...totals.currencies, ...previousTotals.currencies])];
    if (currencies.length > 1)
      throw new ConflictException(
        `the periods mix currencies (${currencies.join(', ')}): ask for a period priced in one currency`,
      );
    return {
      board: query.board,
      by: query.by,
      period: { from: current.from.toISOString(), to: current.to.toISOString() },
      previousPeriod: { from: previous.from.toISOString(), to: previous.to.toISOString() },
      currency: currencies[0] ?? null,
      defaultPriced: totals.defaultPriced,
      windows: totals.windows,
      previousWindows: previousTotals.windows,
      total: moneyJson(totals.totalMicrodollars),
      totalChange: change(totals.totalMicrodollars, previousTotals.totalMicrodollars),
      rows: await this.toJson(query, rows),
    };
  }

  private rows(query: LeaderboardQuery, current: Period, previous: Period): Promise<RankedRow[]> {
    switch (query.board) {
      case 'teams':
        return this.repository.teams(current, previous, query.by, query.limit);
      case 'services':
        return this.repository.services(current, previous, query.limit);
      case 'functions':
        return this.repository.functions(current, previous, query.by, query.limit);
      case 'cross-service-functions':
        return this.repository.crossServiceFunctions(current, previous, query.by, query.limit);
    }
  }

  private async toJson(query: LeaderboardQuery, rows: readonly RankedRow[]): Promise<LeaderboardRowJson[]> {
    const names = await this.functions.namesOf(
      rows.flatMap((r) => (typeof r.key.functionId === 'number' ? [r.key.functionId] : [])),
    );
    return rows.map((r, i) => {
      const base = {
        rank: i + 1,
        cost: moneyJson(r.current),
        previous: moneyJson(r.previous),
        change: change(r.current, r.previous),
      };
      switch (query.board) {
        case 'teams':
          return { ...base, team: r.key.team, kind: r.key.kind };
        case 'services':
          return {
            ...base,
            service: r.key.service,
            team: r.key.team,
            cpuNanoseconds: String(r.extra.cpuNanoseconds),
            defaultPriced: r.extra.defaultPriced,
          };
        case 'functions':
        case 'cross-service-functions': {
          const other = moneyJson(r.extra.other as bigint);
          const figures =
            query.by === 'self' ? { self: base.cost, inclusive: other } : { self: other, inclusive: base.cost };
          const where = query.board === 'functions' ? { service: r.key.service } : { services: r.extra.services };
          return { ...base, ...where, function: names.get(r.key.functionId as number) ?? null, ...figures };
        }
      }
    });
  }
}

/** current − previous, and the percentage rounded half away from zero to two places; null percent when previous is 0. */
export function change(current: bigint, previous: bigint): ChangeJson {
  return { ...moneyJson(current - previous), percent: percentChange(current, previous) };
}
