import {
  Inject,
  Injectable,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { map, of, type Observable } from 'rxjs';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { API_CLOCK } from './auth/api-key.guard';
import { ResponseCache } from './response-cache';
import { csvTable, type CsvValue } from '../domain/export/csv';

/** How a list endpoint's JSON answer becomes a CSV table. */
export type CsvMapper = (body: never) => {
  readonly name: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly CsvValue[])[];
};

const CSV_KEY = 'flamebill:csv';

/** Declares a list endpoint: `format=csv` or `Accept: text/csv` answers the table `mapper` makes of the JSON answer. */
export const CsvTable = (mapper: CsvMapper): MethodDecorator => SetMetadata(CSV_KEY, mapper);

/** Answers about closed periods may be cached this long by the caller; they are revalidated with the ETag after. */
const CLOSED_MAX_AGE_S = 300;

/**
 * Serialises `/api/v1` answers: JSON, or CSV for list endpoints when asked; then caching. An answer about a closed
 * period (`period.partial` false, or `period.to` past: nothing more will be attributed to it unless it is re-attributed) gets a strong
 * `ETag` (SHA-256 of the bytes sent) and `Cache-Control: private, max-age=300`; Express answers 304 when
 * `If-None-Match` matches. Answers about open periods say `no-cache`.
 */
@Injectable()
export class ApiResponseInterceptor implements NestInterceptor {
  private readonly cache: ResponseCache;

  constructor(
    private readonly reflector: Reflector,
    @Inject(API_CLOCK) private readonly clock: () => number,
    @InjectSettings() settings: Settings,
  ) {
    this.cache = new ResponseCache(settings.api.cache.ttlSeconds * 1000, settings.api.cache.maxMegabytes * 1024 * 1024);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    if (!req.path.startsWith('/api/v1/')) return next.handle();
    const mapper = this.reflector.get<CsvMapper | undefined>(CSV_KEY, context.getHandler());
    const format = req.query.format;
    const csv =
      mapper !== undefined &&
      (format === 'csv' || (format === undefined && req.accepts(['application/json', 'text/csv']) === 'text/csv'));
    // The guard has checked the key and its scope already: a cached answer is only served to whoever may see it.
    const cacheKey = req.method === 'GET' ? `${csv ? 'csv' : 'json'} ${req.originalUrl}` : null;
    const hit = cacheKey && this.cache.get(cacheKey, this.clock());
    if (hit) {
      for (const [name, value] of Object.entries(hit.headers)) res.setHeader(name, value);
      return of(this.answer(req, res, hit.payload, hit.headers.ETag as string));
    }
    return next.handle().pipe(
      map((body: unknown) => {
        if (body === undefined || res.headersSent) return body;
        let payload: string;
        if (csv) {
          const table = mapper(body as never);
          payload = csvTable(table.columns, table.rows);
          res.setHeader('Content-Type', 'text/csv; charset=utf-8; header=present');
          res.setHeader('Content-Disposition', `inline; filename="${table.name}.csv"`);
        } else {
          payload = JSON.stringify(body);
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
        }
        res.setHeader('Vary', 'Accept, Authorization');
        if (!isClosed(body, this.clock())) {
          res.setHeader('Cache-Control', 'private, no-cache');
          return payload;
        }
        const etag = `"${createHash('sha256').update(payload).digest('base64url')}"`;
        res.setHeader('ETag', etag);
        res.setHeader('Cache-Control', `private, max-age=${CLOSED_MAX_AGE_S}`);
        if (cacheKey) this.cache.set(cacheKey, payload, headersOf(res), this.clock());
        return this.answer(req, res, payload, etag);
      }),
    );
  }

  /**
   * The payload, or 304 and nothing when If-None-Match names its ETag. Evaluated here, not by Express's req.fresh:
   * that one ignores If-None-Match when the request says Cache-Control: no-cache (which fetch adds to conditional
   * requests), but an origin server answers it (RFC 9110 13.1.2).
   */
  private answer(req: Request, res: Response, payload: string, etag: string | undefined): string {
    if (etag && noneMatch(req.headers['if-none-match'], etag)) {
      res.status(304);
      return '';
    }
    return payload;
  }
}

const CACHED_HEADERS = ['Content-Type', 'Content-Disposition', 'Vary', 'ETag', 'Cache-Control'];

function headersOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CACHED_HEADERS) {
    const value = res.getHeader(name);
    if (value !== undefined) out[name] = String(value);
  }
  return out;
}

function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** About a period that has ended: `period.partial` false (cost query answers), or `period.to` past (leaderboards). */
function isClosed(body: unknown, nowMs: number): boolean {
  const period = (body as { period?: { partial?: unknown; to?: unknown } } | null)?.period;
  if (typeof period !== 'object' || period === null) return false;
  if (typeof period.partial === 'boolean') return !period.partial;
  return typeof period.to === 'string' && Date.parse(period.to) <= nowMs;
}
