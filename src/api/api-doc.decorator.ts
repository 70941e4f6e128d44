import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { Scope } from './auth/api-key.repository';

export interface QueryDoc {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  readonly example?: string;
  readonly enum?: readonly string[];
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    param: { type: 'string', description: 'the offending parameter (400 only)' },
  },
};

export const PERIOD_QUERIES: readonly QueryDoc[] = [
  {
    name: 'from',
    description: 'start of the period (ISO 8601 date or date-time with a zone), inclusive',
    example: '2026-11-20',
  },
  { name: 'to', description: 'end of the period, exclusive', example: '2026-11-22' },
  {
    name: 'step',
    description: 'alignment of from/to and of trend points (default day when both are UTC midnights, else hour)',
    enum: ['hour', 'day', 'week', 'month'],
  },
  {
    name: 'window',
    description: "OpenCost alias for from/to: today, yesterday, week, lastweek, 7d, 30d or '<RFC3339>,<RFC3339>'",
    example: '7d',
  },
];

export const FORMAT_QUERY: QueryDoc = {
  name: 'format',
  description: 'json (default) or csv (also Accept: text/csv)',
  enum: ['json', 'csv'],
};

/**
 * The OpenAPI description of one `/api/v1` route: summary, the scope it needs, its query and path parameters, an
 * example answer, and the error answers every route may give in the one error shape.
 */
export function ApiDoc(doc: {
  summary: string;
  scope: Scope;
  queries?: readonly QueryDoc[];
  params?: readonly QueryDoc[];
  example: unknown;
  csv?: boolean;
  produces?: readonly string[];
}): MethodDecorator {
  const errors = [
    [400, 'a parameter is wrong or unknown (param names it)'],
    [401, 'no API key, or an unknown or revoked one'],
    [403, `the key lacks the ${doc.scope} scope`],
    [429, 'rate limit of the key exceeded (Retry-After)'],
  ] as const;
  return applyDecorators(
    ApiOperation({
      summary: doc.summary,
      description: `Scope: \`${doc.scope}\`.${doc.csv ? ' CSV with format=csv or Accept: text/csv.' : ''}`,
    }),
    ApiBearerAuth(),
    ...(doc.queries ?? []).map((q) =>
      ApiQuery({
        name: q.name,
        description: q.description,
        required: q.required ?? false,
        ...(q.enum ? { enum: [...q.enum] } : { type: String }),
        ...(q.example ? { example: q.example } : {}),
      }),
    ),
    ...(doc.params ?? []).map((p) =>
      ApiParam({
        name: p.name,
        description: p.description,
        type: String,
        ...(p.example ? { example: p.example } : {}),
      }),
    ),
    ApiProduces(...(doc.produces ?? (doc.csv ? ['application/json', 'text/csv'] : ['application/json']))),
    ApiResponse({
      status: 200,
      description: 'OK',
      content: { 'application/json': { schema: { type: 'object' }, example: doc.example } },
    }),
    ...errors.map(([status, description]) =>
      ApiResponse({
        status,
        description,
        content: {
          'application/json': {
            schema: ERROR_SCHEMA,
            example: { statusCode: status, error: 'Error', message: description },
          },
        },
      }),
    ),
  );
}
