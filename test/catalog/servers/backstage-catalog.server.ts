import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { LoopbackServer, type RecordedRequest } from '../../sources/servers/loopback-server';

/**
 * Backstage's catalog API on loopback, as plugins/catalog-backend serves it under `/api/catalog`
 * (src/service/createRouter.ts in backstage/backstage):
 * - `GET /api/catalog/entities/by-query?filter=…&limit=…` answers `{ items, totalItems, pageInfo: { nextCursor?,
 *   prevCursor? } }`; `filter` is `key=value[,key=value]` (conditions of one filter AND-ed, several filters OR-ed,
 *   keys and values case-insensitive); the next page is `?cursor=<nextCursor>`, an opaque base64 cursor that carries
 *   the query (`encodeCursor` there), so a cursor request needs no filter;
 * - entities come back as the catalog stores them: `metadata.namespace` filled in (`default`), a `uid` and `etag`;
 * - without the expected `Authorization: Bearer` token: 401 `{"error":{"name":"AuthenticationError",…}}`.
 * Entities the catalog rejected at ingestion (an invalid name) are not in it, so the fake is given accepted ones only.
 */
export interface BackstageCatalogServerOptions {
  readonly entities: ReadonlyArray<Record<string, unknown>>;
  readonly token?: string;
}

interface Cursor {
  readonly filters: string[];
  readonly offset: number;
  readonly limit: number;
}

export function startBackstageCatalogServer(options: BackstageCatalogServerOptions): Promise<LoopbackServer> {
  const stored = options.entities.map(normalize).sort((a, b) => (ref(a) < ref(b) ? -1 : ref(a) > ref(b) ? 1 : 0));
  return LoopbackServer.start((request, response) => handle(options, stored, request, response));
}

function handle(
  options: BackstageCatalogServerOptions,
  stored: Record<string, unknown>[],
  request: RecordedRequest,
  response: ServerResponse,
): void {
  if (options.token !== undefined && request.headers.authorization !== `Bearer ${options.token}`) {
    return json(response, 401, {
      error: { name: 'AuthenticationError', message: 'Missing credentials' },
      request: { method: request.method, url: request.path },
      response: { statusCode: 401 },
    });
  }
  if (request.method !== 'GET' || request.path !== '/api/catalog/entities/by-query') {
    return json(response, 404, {
      error: { name: 'NotFoundError', message: `Not found: ${request.path}` },
      response: { statusCode: 404 },
    });
  }
  let cursor: Cursor;
  const raw = request.query.get('cursor');
  if (raw !== null) {
    try {
      cursor = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as Cursor;
    } catch {
      return json(response, 400, {
        error: { name: 'InputError', message: 'Malformed cursor' },
        response: { statusCode: 400 },
      });
    }
  } else {
    cursor = { filters: request.query.getAll('filter'), offset: 0, limit: Number(request.query.get('limit') ?? 20) };
  }
  const limit = Number(request.query.get('limit') ?? cursor.limit);
  const matching = stored.filter((e) => cursor.filters.length === 0 || cursor.filters.some((f) => matchesFilter(e, f)));
  const items = matching.slice(cursor.offset, cursor.offset + limit);
  const nextOffset = cursor.offset + items.length;
  const pageInfo: Record<string, string> = {};
  if (nextOffset < matching.length)
    pageInfo['nextCursor'] = Buffer.from(JSON.stringify({ ...cursor, offset: nextOffset, limit })).toString('base64');
  if (cursor.offset > 0)
    pageInfo['prevCursor'] = Buffer.from(
      JSON.stringify({ ...cursor, offset: Math.max(0, cursor.offset - limit), limit }),
    ).toString('base64');
  json(response, 200, { items, totalItems: matching.length, pageInfo });
}

function matchesFilter(entity: Record<string, unknown>, filter: string): boolean {
  return filter.split(',').every((condition) => {
    const eq = condition.indexOf('=');
    const key = (eq < 0 ? condition : condition.slice(0, eq)).trim().toLowerCase();
    const value =
      eq < 0
        ? null
        : condition
            .slice(eq + 1)
            .trim()
            .toLowerCase();
    const actual = key
      .split('.')
      .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), entity);
    if (actual === undefined) return false;
    return value === null || String(actual).toLowerCase() === value;
  });
}

function normalize(entity: Record<string, unknown>): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    namespace: 'default',
    ...(entity['metadata'] as Record<string, unknown>),
  };
  const id = `${String(entity['kind']).toLowerCase()}:${String(metadata.namespace)}/${String(metadata['name'])}`;
  const uid = createHash('sha1').update(id).digest('hex');
  return { ...entity, metadata: { ...metadata, uid, etag: uid.slice(0, 12) } };
}

function ref(e: Record<string, unknown>): string {
  const m = e['metadata'] as Record<string, unknown>;
  return `${String(e['kind']).toLowerCase()}:${String(m['namespace'])}/${String(m['name'])}`;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}
