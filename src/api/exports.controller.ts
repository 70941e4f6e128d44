import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { once } from 'node:events';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { focusCsvHeader, focusCsvLine, focusJsonLine } from '../domain/export/focus';
import { ApiDoc, PERIOD_QUERIES } from './api-doc.decorator';
import { ParamError } from './api-error';
import { name as serviceName, oneOf, parseQuery, PERIOD_PARAMS, periodOf } from './api-query';
import { RequireScope } from './auth/scopes.decorator';
import { CostsService } from './costs.service';
import { FocusExportService } from './focus-export.service';

const FOCUS_EXAMPLE =
  'BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,ChargeDescription,ChargePeriodEnd,ChargePeriodStart,...\r\n' +
  '1.234567,flamebill,flamebill,USD,2026-12-01T00:00:00Z,2026-11-01T00:00:00Z,Usage,,Profiled CPU time of service checkout,2026-11-22T00:00:00Z,2026-11-21T00:00:00Z,...\r\n';

/** `GET /api/v1/exports/focus`: FOCUS 1.2 rows of a period (export scope), streamed. */
@ApiTags('exports')
@Controller('api/v1/exports')
export class ExportsController {
  private readonly labelKeys: readonly string[];

  constructor(
    private readonly focus: FocusExportService,
    private readonly costs: CostsService,
    @InjectSettings() settings: Settings,
  ) {
    this.labelKeys = settings.labels.keys;
  }

  @Get('focus')
  @RequireScope('export')
  @ApiDoc({
    summary:
      'FOCUS 1.2 cost and usage rows: one per charge period (day or hour) and service, plus __idle__; CSV or JSON lines, streamed',
    scope: 'export',
    queries: [
      ...PERIOD_QUERIES.filter((q) => q.name !== 'step'),
      { name: 'granularity', description: 'charge period: day (default) or hour', enum: ['day', 'hour'] },
      {
        name: 'format',
        description: 'csv (default; also Accept: text/csv) or jsonl (also Accept: application/x-ndjson)',
        enum: ['csv', 'jsonl'],
      },
      { name: 'service', description: "only this service's rows (no __idle__ row)" },
      {
        name: 'per',
        description:
          'service (default) or function (with service=: one row per function, x_Function set, CPU apportioned by cost)',
        enum: ['service', 'function'],
      },
      {
        name: 'label',
        description:
          'a label key of labels.keys (e.g. version): one row per service and value, Tags carrying {key: value}, CPU apportioned by cost',
        example: 'version',
      },
    ],
    produces: ['text/csv', 'application/x-ndjson'],
    example: FOCUS_EXAMPLE,
  })
  async export(@Query() raw: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { step: _step, ...periodParams } = PERIOD_PARAMS;
    const q = parseQuery(raw, {
      ...periodParams,
      granularity: oneOf(['day', 'hour'] as const),
      format: oneOf(['csv', 'jsonl'] as const),
      service: serviceName,
      per: oneOf(['service', 'function'] as const),
      label: serviceName,
    });
    if (q.per === 'function' && q.service === undefined)
      throw new ParamError('per', 'per=function needs service=: the functions of one service');
    if (q.label !== undefined && q.per === 'function')
      throw new ParamError('label', 'label= splits service rows; it cannot be combined with per=function');
    if (q.label !== undefined && !this.labelKeys.includes(q.label))
      throw new ParamError(
        'label',
        `"${q.label}" is not a label kept on the facts (labels.keys: ${this.labelKeys.join(', ') || 'none'})`,
      );
    const step = q.granularity ?? 'day';
    const period = { ...periodOf({ ...q, step }, this.costs.now()), step };
    this.focus.check(period, this.costs.now());
    const jsonl =
      q.format === 'jsonl' ||
      (q.format === undefined && req.accepts(['text/csv', 'application/x-ndjson']) === 'application/x-ndjson');
    const file = `focus-${period.from.toISOString().slice(0, 10)}-${period.to.toISOString().slice(0, 10)}-${step}.${jsonl ? 'jsonl' : 'csv'}`;
    res.status(200);
    res.setHeader(
      'Content-Type',
      jsonl ? 'application/x-ndjson; charset=utf-8' : 'text/csv; charset=utf-8; header=present',
    );
    res.setHeader('Content-Disposition', `attachment; filename="${file}"`);
    res.setHeader('Cache-Control', 'private, no-store');
    if (!jsonl) res.write(focusCsvHeader());
    for await (const batch of this.focus.rows(period, {
      service: q.service,
      perFunction: q.per === 'function',
      ...(q.label === undefined ? {} : { labelKey: q.label }),
    })) {
      if (res.destroyed) return;
      const chunk = batch.map(jsonl ? focusJsonLine : focusCsvLine).join('');
      // Wait for the socket to drain: a slow reader holds one charge period in memory, not the export.
      if (chunk && !res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
    res.end();
  }
}
