import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DAY_MS } from '../domain/cost';
import { pruneTree, treeToJson } from '../domain/profile/tree';
import { ProfileTreeService } from '../profile-trees/profile-tree.service';
import { ApiDoc } from './api-doc.decorator';
import { sendProfileDownload } from './profile-download';
import { ApiError, ParamError } from './api-error';
import { instant, name, oneOf, parseQuery } from './api-query';
import { RequireScope } from './auth/scopes.decorator';

/** Nodes of the `json` format: enough for a flame graph, small enough to send. */
const JSON_NODES = 2_000;

/**
 * `GET /api/v1/profiles/{service}`: the merged CPU profile of a service over whole UTC days, from the stored trees
 * (the `profile-trees` job builds them). `format=pprof` is a gzipped pprof with `samples/count` and `cpu/nanoseconds`,
 * usable as Go's `default.pgo` (function, file and line kept).
 */
@ApiTags('profiles')
@Controller('api/v1/profiles')
export class ProfilesController {
  constructor(private readonly trees: ProfileTreeService) {}

  @Get(':service')
  @RequireScope('export')
  @ApiDoc({
    summary:
      'The merged CPU profile of a service over whole UTC days: pprof (gzipped, for PGO), speedscope, folded text or a JSON tree',
    scope: 'export',
    params: [{ name: 'service', description: 'service name (catalog Component)', example: 'checkout' }],
    queries: [
      { name: 'from', description: 'first UTC day (midnight), e.g. 2026-11-23', required: true },
      { name: 'to', description: 'end, exclusive (a UTC midnight), e.g. 2026-11-30', required: true },
      { name: 'version', description: 'only the samples of this `version` label value' },
      {
        name: 'format',
        description: 'pprof (default), speedscope, folded or json (pruned to 2,000 nodes)',
        enum: ['pprof', 'speedscope', 'folded', 'json'],
      },
    ],
    produces: ['application/octet-stream', 'application/json', 'text/plain'],
    example: {
      service: 'checkout',
      from: '2026-11-23T00:00:00.000Z',
      to: '2026-11-30T00:00:00.000Z',
      days: 7,
      missingRaw: 0,
      tree: {
        name: 'root',
        self: '0',
        total: '15840000000',
        children: [{ name: 'main', file: 'main.go', line: 12, self: '0', total: '15840000000', children: [] }],
      },
    },
  })
  async profile(
    @Param('service') raw: string,
    @Query() query: Record<string, unknown>,
    @Res() res: Response,
  ): Promise<void> {
    const service = name(raw, 'service');
    const q = parseQuery(query, {
      from: instant,
      to: instant,
      version: name,
      format: oneOf(['pprof', 'speedscope', 'folded', 'json'] as const),
    });
    if (!q.from) throw new ParamError('from', 'is required: the first UTC day of the profile');
    if (!q.to) throw new ParamError('to', 'is required: the end of the profile (a UTC midnight, exclusive)');
    for (const [param, at] of [
      ['from', q.from],
      ['to', q.to],
    ] as const) {
      if (at.getTime() % DAY_MS !== 0)
        throw new ParamError(param, 'must be a UTC midnight: profiles are kept per UTC day');
    }
    if (q.to <= q.from) throw new ParamError('to', 'must be after from');
    const fromDay = q.from.toISOString().slice(0, 10);
    const toDay = q.to.toISOString().slice(0, 10);
    const read = await this.trees.readTree(service, fromDay, toDay, q.version);
    if (!read)
      throw new ApiError(
        404,
        `no profile of ${service}${q.version ? ` version ${q.version}` : ''} between ${fromDay} and ${toDay}`,
      );
    const base = `${service}-${fromDay}-${toDay}${q.version ? `-${q.version}` : ''}`;
    res.setHeader('X-Profile-Days', String(read.days));
    res.setHeader('X-Profile-Missing-Raw', String(read.missingRaw));
    const format = q.format ?? 'pprof';
    if (format !== 'json') return sendProfileDownload(res, read.tree, base, format);
    res.type('application/json').send(
      JSON.stringify({
        service,
        from: q.from.toISOString(),
        to: q.to.toISOString(),
        days: read.days,
        missingRaw: read.missingRaw,
        tree: treeToJson(pruneTree(read.tree, JSON_NODES)),
      }),
    );
  }
}
