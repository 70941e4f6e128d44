import { Controller, Get, HttpCode, NotFoundException, Param, Post, Query, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { JobRegistry } from '../jobs/job-registry';
import { JobRequestRepository, type JobRequest } from '../jobs/job-request.repository';
import { JobRunRepository } from '../jobs/job-run.repository';
import { ApiDoc } from './api-doc.decorator';
import { ApiError } from './api-error';
import { instant, oneOf, parseQuery } from './api-query';
import type { AuthenticatedRequest } from './audit/audit.service';
import { RequireScope } from './auth/scopes.decorator';

const JOB_EXAMPLE = {
  job: 'attribute',
  description: 'attribute closed windows: cost per function, service and team',
  schedule: '5 * * * *',
  timeZone: 'UTC',
  lastRun: {
    id: '812',
    status: 'succeeded',
    startedAt: '2026-12-04T21:05:00.123Z',
    finishedAt: '2026-12-04T21:05:03.456Z',
    counts: { windows: 1 },
    error: null,
  },
};
const REQUEST_EXAMPLE = {
  id: '17',
  job: 'attribute',
  options: { from: '2026-11-30T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', force: true },
  requestedBy: 'finance-ops',
  requestedAt: '2026-12-04T21:10:00.000Z',
  status: 'succeeded',
  claimedAt: '2026-12-04T21:10:01.500Z',
  finishedAt: '2026-12-04T21:10:09.250Z',
  summary: { job: 'attribute', status: 'succeeded', counts: { windows: 24, done: 24, failed: 0 }, errors: [] },
  statusUrl: '/api/v1/jobs/requests/17',
};
const flag = oneOf(['true', 'false'] as const);

/**
 * Job triggers for administrators: the registered jobs with their schedules and last runs, and a run asked for now
 * (a backfill after a catalog fix, a weekly report re-sent). The request is stored and run by the process that runs
 * scheduled jobs, never by the one answering HTTP; its state is read back by id.
 */
@ApiTags('jobs')
@Controller('api/v1/jobs')
export class JobsController {
  constructor(
    private readonly registry: JobRegistry,
    private readonly requests: JobRequestRepository,
    private readonly runs: JobRunRepository,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  @Get()
  @RequireScope('admin')
  @ApiDoc({
    summary: 'Registered jobs: description, schedule in force, time zone, last run',
    scope: 'admin',
    example: { schedulesEnabled: true, jobs: [JOB_EXAMPLE] },
  })
  async list(@Query() raw: Record<string, unknown>) {
    parseQuery(raw, {});
    const jobs = await Promise.all(
      this.registry.list().map(async ({ meta }) => {
        const [last] = await this.runs.listRecent({ job: meta.name, limit: 1 });
        return {
          job: meta.name,
          description: meta.description,
          schedule: this.settings.schedules.jobs[meta.name] ?? meta.defaultSchedule,
          timeZone: meta.timeZone ?? 'UTC',
          lastRun: last
            ? {
                id: last.id,
                status: last.status,
                startedAt: last.startedAt.toISOString(),
                finishedAt: last.finishedAt?.toISOString() ?? null,
                counts: last.counts,
                error: last.error,
              }
            : null,
        };
      }),
    );
    return { schedulesEnabled: this.settings.schedules.enabled, jobs };
  }

  @Post(':job/runs')
  @HttpCode(200)
  @RequireScope('admin')
  @ApiDoc({
    summary:
      'Ask for a run of a job now (from, to, force, dryRun as `flamebill run` takes them); answers the stored request, run by the process that runs scheduled jobs',
    scope: 'admin',
    params: [{ name: 'job', description: 'a registered job (GET /api/v1/jobs)', example: 'attribute' }],
    queries: [
      { name: 'from', description: 'start of the range to (re)process, ISO 8601' },
      { name: 'to', description: 'end of the range (exclusive), ISO 8601' },
      { name: 'force', description: 'true: redo items already done', enum: ['true', 'false'] },
      {
        name: 'dryRun',
        description: 'true: send nothing outside (jobs with outside effects)',
        enum: ['true', 'false'],
      },
    ],
    example: { ...REQUEST_EXAMPLE, status: 'pending', claimedAt: null, finishedAt: null, summary: null },
  })
  async request(@Param('job') job: string, @Query() raw: Record<string, unknown>, @Req() req: AuthenticatedRequest) {
    if (!this.registry.has(job))
      throw new ApiError(404, `no job "${job}" (jobs: ${this.registry.names().join(', ')})`, 'job');
    const q = parseQuery(raw, { from: instant, to: instant, force: flag, dryRun: flag });
    if ((q.from === undefined) !== (q.to === undefined))
      throw new ApiError(400, 'give both from and to, or neither', q.from === undefined ? 'from' : 'to');
    if (q.from && q.to && q.from >= q.to) throw new ApiError(400, 'must be after from', 'to');
    const request = await this.requests.insert(
      job,
      {
        ...(q.from ? { from: q.from.toISOString(), to: q.to!.toISOString() } : {}),
        ...(q.force === 'true' ? { force: true } : {}),
        ...(q.dryRun === 'true' ? { dryRun: true } : {}),
      },
      req.apiKey?.name ?? 'unknown',
    );
    return {
      ...requestJson(request),
      ...(this.settings.schedules.enabled
        ? {}
        : {
            note: 'scheduled jobs are off here (schedules.enabled: false): the request waits for a replica that runs them, or run `flamebill run JOB`',
          }),
    };
  }

  @Get('requests/:id')
  @RequireScope('admin')
  @ApiDoc({
    summary: 'A run asked for over the API: pending, running, succeeded, failed or abandoned, with the run summary',
    scope: 'admin',
    params: [{ name: 'id', description: 'the id POST answered', example: '17' }],
    example: REQUEST_EXAMPLE,
  })
  async get(@Param('id') id: string, @Query() raw: Record<string, unknown>) {
    parseQuery(raw, {});
    const request = await this.requests.get(id);
    if (!request) throw new NotFoundException(`no job request ${id}`);
    return requestJson(request);
  }
}

function requestJson(r: JobRequest) {
  return {
    id: r.id,
    job: r.job,
    options: r.options,
    requestedBy: r.requestedBy,
    requestedAt: r.requestedAt.toISOString(),
    status: r.status,
    claimedAt: r.claimedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
    summary: r.summary,
    statusUrl: `/api/v1/jobs/requests/${r.id}`,
  };
}
