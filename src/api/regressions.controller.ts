import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RegressionsService } from '../regressions/regressions.service';
import { moneyJson } from '../domain/cost';
import { ApiDoc } from './api-doc.decorator';
import { name, oneOf, parseQuery } from './api-query';

/** `GET /api/v1/regressions?state=&team=&service=` (read): findings with their figures and tickets, costliest first. */
@ApiTags('regressions')
@Controller('api/v1')
export class RegressionsController {
  constructor(private readonly regressions: RegressionsService) {}

  @Get('regressions')
  @ApiDoc({
    summary:
      'Regression findings (open, reopened, resolved) with their shares, CPU, $/year and ticket, most expensive first',
    scope: 'read',
    queries: [
      { name: 'state', description: 'open, reopened or resolved', enum: ['open', 'reopened', 'resolved'] },
      { name: 'team', description: 'the owning team' },
      { name: 'service', description: 'the service' },
    ],
    example: {
      regressions: [
        {
          fingerprint: 'sha256:4f2a…',
          service: 'checkout',
          function: 'main.validateEmail',
          kind: 'flat',
          team: 'payments',
          state: 'open',
          baseShare: 0.012,
          currentShare: 0.094,
          cpuNanosecondsDelta: '5400000000000',
          impactPerYear: { microdollars: '412000000', dollars: '412' },
          pValue: 1e-12,
          baseVersion: '1.14.2',
          currentVersion: '1.15.0',
          firstSeenAt: '2026-11-30T01:20:00.000Z',
          resolvedAt: null,
          ticket: {
            tracker: 'redmine',
            project: 'payments',
            id: '42',
            url: 'https://redmine.internal/issues/42',
            dryRun: false,
          },
        },
      ],
    },
  })
  async list(@Query() raw: Record<string, unknown>) {
    const q = parseQuery(raw, { state: oneOf(['open', 'reopened', 'resolved'] as const), team: name, service: name });
    const rows = await this.regressions.list(q);
    return {
      regressions: rows.map((f) => ({
        fingerprint: f.fingerprint,
        service: f.service,
        function: f.function,
        kind: f.kind,
        sampleType: f.sampleType,
        team: f.team,
        state: f.state,
        baseShare: f.baseShare,
        currentShare: f.currentShare,
        cpuNanosecondsDelta: f.cpuNanosecondsDelta.toString(),
        impactPerYear: f.impactPerYearMicros === null ? null : moneyJson(f.impactPerYearMicros),
        pValue: f.pValue,
        baseVersion: f.baseVersion,
        currentVersion: f.currentVersion,
        baseWindow: { from: f.baseFrom.toISOString(), to: f.baseTo.toISOString() },
        currentWindow: { from: f.currentFrom.toISOString(), to: f.currentTo.toISOString() },
        firstSeenAt: f.firstSeenAt.toISOString(),
        lastSeenAt: f.lastSeenAt.toISOString(),
        resolvedAt: f.resolvedAt?.toISOString() ?? null,
        ticket: f.ticket
          ? {
              tracker: f.ticket.tracker,
              project: f.ticket.project,
              id: f.ticket.remoteId,
              url: f.ticket.url,
              dryRun: f.ticket.dryRun,
            }
          : null,
      })),
    };
  }
}
