import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RegressionsService } from '../regressions/regressions.service';
import { moneyJson } from '../domain/cost';
import { ApiDoc, FORMAT_QUERY } from './api-doc.decorator';
import { format, name, oneOf, parseQuery } from './api-query';
import { CsvTable } from './api-response.interceptor';

const CSV_COLUMNS = [
  'fingerprint',
  'service',
  'function',
  'kind',
  'team',
  'state',
  'base_share',
  'current_share',
  'cpu_nanoseconds_delta',
  'impact_per_year',
  'p_value',
  'base_version',
  'current_version',
  'current_from',
  'current_to',
  'first_seen_at',
  'resolved_at',
  'ticket_tracker',
  'ticket_project',
  'ticket_id',
  'ticket_url',
  'ticket_dry_run',
];

type RegressionJson = Awaited<ReturnType<RegressionsController['list']>>['regressions'][number];

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
      FORMAT_QUERY,
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
  @CsvTable((body: { regressions: RegressionJson[] }) => ({
    name: 'regressions',
    columns: CSV_COLUMNS,
    rows: body.regressions.map((r) => [
      r.fingerprint,
      r.service,
      r.function,
      r.kind,
      r.team,
      r.state,
      r.baseShare,
      r.currentShare,
      r.cpuNanosecondsDelta,
      r.impactPerYear?.dollars ?? null,
      r.pValue,
      r.baseVersion,
      r.currentVersion,
      r.currentWindow.from,
      r.currentWindow.to,
      r.firstSeenAt,
      r.resolvedAt,
      r.ticket?.tracker ?? null,
      r.ticket?.project ?? null,
      r.ticket?.id ?? null,
      r.ticket?.url ?? null,
      r.ticket ? r.ticket.dryRun : null,
    ]),
  }))
  async list(@Query() raw: Record<string, unknown>) {
    const { format: _format, ...q } = parseQuery(raw, {
      state: oneOf(['open', 'reopened', 'resolved'] as const),
      team: name,
      service: name,
      format,
    });
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
