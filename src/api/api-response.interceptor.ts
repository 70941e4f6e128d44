import { Injectable, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { map, type Observable } from 'rxjs';
import { csvTable, type CsvValue } from '../domain/export/csv';

/** How a list endpoint's JSON answer becomes a CSV table. */
export type CsvMapper = (body: never) => { readonly name: string; readonly columns: readonly string[]; readonly rows: readonly (readonly CsvValue[])[] };

const CSV_KEY = 'flamebill:csv';

/** Declares a list endpoint: `format=csv` or `Accept: text/csv` answers the table `mapper` makes of the JSON answer. */
export const CsvTable = (mapper: CsvMapper): MethodDecorator => SetMetadata(CSV_KEY, mapper);

/** Answers about closed periods may be cached this long by the caller; they are revalidated with the ETag after. */
const CLOSED_MAX_AGE_S = 300;

/**
 * Serialises `/api/v1` answers: JSON, or CSV for list endpoints when asked; then caching. An answer about a closed
 * period (`period.partial` false: nothing more will be attributed to it unless it is re-attributed) gets a strong
 * `ETag` (SHA-256 of the bytes sent) and `Cache-Control: private, max-age=300`; Express answers 304 when
 * `If-None-Match` matches. Answers about open periods say `no-cache`.
 */
@Injectable()
export class ApiResponseInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    if (!req.path.startsWith('/api/v1/')) return next.handle();
    const mapper = this.reflector.get<CsvMapper | undefined>(CSV_KEY, context.getHandler());
    const format = req.query.format;
    const csv = mapper !== undefined && (format === 'csv' || (format === undefined && req.accepts(['application/json', 'text/csv']) === 'text/csv'));
    return next.handle().pipe(
      map((body: unknown) => {
        if (body === undefined || res.headersSent) return body;
        let payload: string;
        if (csv) {
          const table = mapper((body as never));
          payload = csvTable(table.columns, table.rows);
          res.setHeader('Content-Type', 'text/csv; charset=utf-8; header=present');
          res.setHeader('Content-Disposition', `inline; filename="${table.name}.csv"`);
        } else {
          payload = JSON.stringify(body);
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
        }
        res.setHeader('Vary', 'Accept, Authorization');
        if (isClosed(body)) {
          const etag = `"${createHash('sha256').update(payload).digest('base64url')}"`;
          res.setHeader('ETag', etag);
          res.setHeader('Cache-Control', `private, max-age=${CLOSED_MAX_AGE_S}`);
          // Evaluated here, not by Express's req.fresh: that one ignores If-None-Match when the request says
          // Cache-Control: no-cache (which fetch adds to conditional requests), but an origin server answers it (RFC 9110 13.1.2).
          if (noneMatch(req.headers['if-none-match'], etag)) {
            res.status(304);
            return '';
          }
        } else res.setHeader('Cache-Control', 'private, no-cache');
        return payload;
      }),
    );
  }
}

function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

function isClosed(body: unknown): boolean {
  const period = (body as { period?: { partial?: unknown } } | null)?.period;
  return typeof period === 'object' && period !== null && period.partial === false;
}
