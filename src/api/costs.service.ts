import { Inject, Injectable } from '@nestjs/common';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { CostQueryService, type GroupBy, type Scope } from '../cost/cost-query.service';
import { moneyJson } from '../domain/cost';
import { ParamError } from './api-error';
import { periodJson, rowJson, totalJson } from './api-json';
import type { Period } from './api-query';
import { API_CLOCK } from './auth/api-key.guard';

export interface CostsRequest extends Period {
  readonly groupBy: GroupBy;
  readonly team?: string;
  readonly service?: string;
  readonly function?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

/** `GET /api/v1/costs` and `GET /api/v1/books`: the cost query service's answers in the API's JSON. */
@Injectable()
export class CostsService {
  constructor(
    private readonly costs: CostQueryService,
    @InjectSettings() private readonly settings: Settings,
    @Inject(API_CLOCK) private readonly clock: () => number,
  ) {}

  now(): number {
    return this.clock();
  }

  async rows(q: CostsRequest) {
    if (q.team !== undefined && q.service !== undefined)
      throw new ParamError('service', 'give team or service, not both');
    const scope: Scope =
      q.team !== undefined
        ? { kind: 'team', team: q.team }
        : q.service !== undefined
          ? { kind: 'service', service: q.service }
          : { kind: 'org' };
    let answer;
    if (q.function !== undefined) {
      if (q.groupBy !== 'service')
        throw new ParamError(
          'function',
          'filters rows grouped by service (groupBy=service): which services pay for the function',
        );
      if (scope.kind !== 'org') throw new ParamError('function', 'cannot be combined with team or service');
      if (q.cursor !== undefined) throw new ParamError('cursor', 'the services of one function come in one page');
      answer = await this.costs.crossService({ from: q.from, to: q.to, step: q.step, function: q.function });
    } else {
      answer = await guard(() =>
        this.costs.rows({
          from: q.from,
          to: q.to,
          step: q.step,
          groupBy: q.groupBy,
          scope,
          limit: q.limit ?? 100,
          cursor: q.cursor ?? null,
        }),
      );
    }
    return {
      currency: this.settings.currency,
      period: periodJson(answer.period),
      groupBy: q.groupBy,
      filter: { team: q.team ?? null, service: q.service ?? null, function: q.function ?? null },
      total: totalJson(answer),
      count: answer.count,
      nextCursor: answer.nextCursor,
      rows: answer.rows.map((r) => rowJson(r, answer.total.cost)),
    };
  }

  async books(q: Period) {
    const [books, provenance] = await Promise.all([
      this.costs.books(q),
      this.costs.provenance({ ...q, digestLimit: 1000 }),
    ]);
    return {
      currency: this.settings.currency,
      period: periodJson(books.period),
      lines: books.lines.map((l) => ({
        label: l.label,
        from: l.from.toISOString(),
        to: l.to.toISOString(),
        functions: moneyJson(l.functionsSelf),
        services: moneyJson(l.services),
        teams: moneyJson(l.teams),
        unowned: moneyJson(l.unowned),
        idle: moneyJson(l.idle),
        total: moneyJson(l.total),
        measured: moneyJson(l.measured),
        allocated: moneyJson(l.allocated),
        windows: l.windows,
        differences: Object.fromEntries(Object.entries(l.differences).map(([k, v]) => [k, moneyJson(v)])),
        balanced: l.balanced,
      })),
      provenance: {
        priceSchedules: provenance.priceScheduleIds,
        catalogRevisions: provenance.catalogRevisions,
        priceIds: provenance.priceIds,
        profileDigests: provenance.profileDigests,
        profileDigestCount: provenance.profileDigestCount,
        windows: provenance.windows,
      },
    };
  }
}

/** The query service refuses a bad cursor or limit with a RangeError: that is the caller's parameter. */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RangeError && /^cursor/.test(error.message))
      throw new ParamError('cursor', 'is not a cursor this service returned');
    if (error instanceof RangeError && /^limit/.test(error.message))
      throw new ParamError('limit', error.message.replace(/^limit /, ''));
    throw error;
  }
}
