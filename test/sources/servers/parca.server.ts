import type { ServerResponse } from 'node:http';
import { LoopbackServer, matches, parseSelector, type RecordedRequest } from './loopback-server';

/**
 * Parca's REST gateway on loopback, as grpc-gateway v2 serves `parca.query.v1alpha1.QueryService`
 * under `/api` (pkg/server/server.go mounts the gateway mux at `/api`; the routes come from the
 * `google.api.http` options in proto/parca/query/v1alpha1/query.proto):
 *
 * - `GET /api/profiles/labels/{label_name}/values?match=…&start=…&end=…` → `{"labelValues":[…],"warnings":[]}`
 * - `GET /api/profiles/query?mode=MODE_MERGE&reportType=REPORT_TYPE_PPROF&merge.query=…&merge.start=…&merge.end=…`
 *   → `{"pprof":"<base64 of gzipped pprof>","total":"0","filtered":"0"}` (protobuf JSON, unpopulated fields emitted)
 * - timestamps are RFC 3339; enum values by name; errors are `{"code":<gRPC code>,"message":…,"details":[]}`
 *   with the mapped HTTP status; unknown routes 404 `Not Found`, other methods 405.
 * - the merge filter is `timestamp >= start AND timestamp <= end`, as Parca's querier does.
 */
export interface ParcaServerOptions {
  /** When set, the exact `Authorization` value every request must carry. */
  readonly authorization?: string;
  readonly profiles: readonly ParcaStoredProfile[];
}

export interface ParcaStoredProfile {
  readonly labels: Readonly<Record<string, string>>;
  /** e.g. `parca_agent:samples:count:cpu:nanoseconds:delta`. */
  readonly profileType: string;
  readonly timeMs: number;
  /** Gzipped pprof, as Parca's REPORT_TYPE_PPROF renders it. */
  readonly pprofGzip: Uint8Array;
}

const VALUES_ROUTE = /^\/api\/profiles\/labels\/([^/]+)\/values$/;

export async function startParcaServer(options: ParcaServerOptions): Promise<LoopbackServer> {
  return LoopbackServer.start((request, response) => handle(options, request, response));
}

function handle(options: ParcaServerOptions, request: RecordedRequest, response: ServerResponse): void {
  const known = request.path === '/api/profiles/query' || VALUES_ROUTE.test(request.path);
  if (!known) return gatewayError(response, 404, 5, 'Not Found');
  if (request.method !== 'GET') return gatewayError(response, 405, 12, 'Method Not Allowed');
  if (options.authorization !== undefined && request.headers.authorization !== options.authorization) {
    return gatewayError(response, 401, 16, 'unauthenticated');
  }
  if (request.path === '/api/profiles/query') return query(options, request, response);
  return values(options, request, decodeURIComponent(VALUES_ROUTE.exec(request.path)![1]!), response);
}

function values(options: ParcaServerOptions, request: RecordedRequest, labelName: string, response: ServerResponse): void {
  const start = timestampParam(request.query, 'start');
  const end = timestampParam(request.query, 'end');
  if (start === undefined || end === undefined) {
    return gatewayError(response, 400, 3, 'parsing field "start"/"end": expected RFC 3339 timestamps');
  }
  const found = new Set<string>();
  for (const profile of options.profiles) {
    const value = profile.labels[labelName];
    if (value !== undefined && (start === null || profile.timeMs >= start) && (end === null || profile.timeMs <= end)) found.add(value);
  }
  json(response, 200, { labelValues: [...found].sort(), warnings: [] });
}

function query(options: ParcaServerOptions, request: RecordedRequest, response: ServerResponse): void {
  const params = request.query;
  for (const [name, allowed] of [
    ['mode', ['MODE_SINGLE_UNSPECIFIED', 'MODE_DIFF', 'MODE_MERGE']],
    ['reportType', ['REPORT_TYPE_FLAMEGRAPH_UNSPECIFIED', 'REPORT_TYPE_PPROF', 'REPORT_TYPE_TOP', 'REPORT_TYPE_CALLGRAPH']],
  ] as const) {
    const value = params.get(name);
    if (value !== null && !(allowed as readonly string[]).includes(value)) {
      return gatewayError(response, 400, 3, `parsing field "${name}": invalid value "${value}"`);
    }
  }
  if (params.get('mode') !== 'MODE_MERGE' || params.get('reportType') !== 'REPORT_TYPE_PPROF') {
    return gatewayError(response, 501, 12, 'test server: only merge queries with pprof reports');
  }
  const start = timestampParam(params, 'merge.start');
  const end = timestampParam(params, 'merge.end');
  if (start === undefined || end === undefined || start === null || end === null) {
    return gatewayError(response, 400, 3, 'parsing field "merge.start"/"merge.end": expected RFC 3339 timestamps');
  }
  const parsed = /^([^{]+)(\{.*\})$/s.exec(params.get('merge.query') ?? '');
  const selector = parsed ? parseSelector(parsed[2]!) : null;
  if (!parsed || selector === null) return gatewayError(response, 400, 3, 'failed to parse query');
  const found = options.profiles.filter(
    (profile) => profile.profileType === parsed[1] && matches(profile.labels, selector) && profile.timeMs >= start && profile.timeMs <= end,
  );
  if (found.length > 1) return gatewayError(response, 500, 13, 'test server cannot merge several profiles');
  json(response, 200, { pprof: Buffer.from(found[0]?.pprofGzip ?? new Uint8Array(0)).toString('base64'), total: '0', filtered: '0' });
}

/** A google.protobuf.Timestamp query parameter: null when absent, undefined when malformed. */
function timestampParam(params: URLSearchParams, name: string): number | null | undefined {
  const value = params.get(name);
  if (value === null) return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
  return Date.parse(value);
}

function gatewayError(response: ServerResponse, status: number, code: number, message: string): void {
  json(response, status, { code, message, details: [] });
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
