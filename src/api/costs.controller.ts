import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ParamError } from './api-error';
import { ApiDoc, FORMAT_QUERY, PERIOD_QUERIES } from './api-doc.decorator';
import { BOOKS_EXAMPLE, COSTS_EXAMPLE } from './api-examples';
import { ROW_COLUMNS, rowCsv, type RowJson } from './api-json';
import {
  cursor,
  format,
  functionName,
  groupBy,
  name,
  parseQuery,
  PERIOD_PARAMS,
  periodOf,
  wholeNumber,
} from './api-query';
import { CsvTable } from './api-response.interceptor';
import { CostsService } from './costs.service';
import { flattenRows } from './flatten';

const COSTS_PARAMS = {
  ...PERIOD_PARAMS,
  groupBy,
  aggregate: groupBy,
  team: name,
  service: name,
  function: functionName,
  limit: wholeNumber(1, 1000),
  cursor,
  format,
};

/** `GET /api/v1/costs` (grouped rows of a period) and `GET /api/v1/books` (the period's reconciliation). */
@ApiTags('costs')
@Controller('api/v1')
export class CostsController {
  constructor(private readonly costs: CostsService) {}

  @Get('costs')
  @ApiDoc({
    summary:
      'Cost of a period grouped by team, service, function or label, with share, previous period and change; keyset pages',
    scope: 'read',
    csv: true,
    queries: [
      ...PERIOD_QUERIES,
      {
        name: 'groupBy',
        description: 'team (default; with __unowned__ and __idle__), service, function or label:<key>',
        example: 'team',
      },
      { name: 'aggregate', description: 'OpenCost alias of groupBy' },
      { name: 'team', description: "only this team's services" },
      { name: 'service', description: 'only this service' },
      { name: 'function', description: 'with groupBy=service: the services that pay for this function' },
      { name: 'limit', description: 'rows per page, 1 to 1000 (default 100)', example: '100' },
      { name: 'cursor', description: 'nextCursor of the previous page' },
      FORMAT_QUERY,
    ],
    example: COSTS_EXAMPLE,
  })
  @CsvTable((body: { rows: RowJson[]; groupBy: string }) => ({
    name: `costs-by-${body.groupBy.replace(':', '-')}`,
    columns: ROW_COLUMNS,
    rows: body.rows.map(rowCsv),
  }))
  list(@Query() raw: Record<string, unknown>) {
    const q = parseQuery(raw, COSTS_PARAMS);
    if (q.groupBy !== undefined && q.aggregate !== undefined)
      throw new ParamError('aggregate', 'give groupBy or its alias aggregate, not both');
    return this.costs.rows({
      ...periodOf(q, this.costs.now()),
      groupBy: q.groupBy ?? q.aggregate ?? 'team',
      team: q.team,
      service: q.service,
      function: q.function,
      limit: q.limit,
      cursor: q.cursor,
    });
  }

  @Get('books')
  @ApiDoc({
    summary:
      'The books of a period: Σ functions, Σ services, Σ teams, __unowned__, __idle__, the bill or capacity, the differences (0) and the provenance',
    scope: 'read',
    csv: true,
    queries: [...PERIOD_QUERIES, FORMAT_QUERY],
    example: BOOKS_EXAMPLE,
  })
  @CsvTable((body: { lines: object[] }) => ({ name: 'books', ...flattenRows(body.lines) }))
  books(@Query() raw: Record<string, unknown>) {
    const q = parseQuery(raw, { ...PERIOD_PARAMS, format });
    return this.costs.books(periodOf(q, this.costs.now()));
  }
}
