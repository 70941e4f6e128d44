import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
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
 *
 * And gRPC-web on the same port, as pkg/server/server.go serves it (`grpcweb.WrapServer` for any Content-Type starting
 * with `application/grpc`): `POST /parca.query.v1alpha1.QueryService/{Values,Query}` with one length-prefixed
 * protobuf message, answered with a data frame and a trailer frame (`grpc-status`, `grpc-message`), HTTP 200 even for
 * errors. Modelled on the real server:
 * - the gRPC server sends up to 64 MiB (`grpc.MaxSendMsgSize(debuginfo.MaxMsgSize)`), while the REST gateway, a gRPC
 *   client with grpc-go's default 4 MiB receive limit, fails on a larger answer with HTTP 429 and gRPC code 8
 *   (`gatewayRecvLimitBytes` scales that limit down for tests);
 * - a merge of nothing is still a gzipped pprof with the query's sample type and period type and no sample
 *   (pkg/query/pprof.go `NewPprofWriter` sets them from the metadata before any record);
 * - `Values` filters by `profile_type` when given and by strict bounds `time > start AND time < end`, and lists
 *   everything when a bound is unset (pkg/parcacol/querier.go `Values`).
 */
export interface ParcaServerOptions {
  /** When set, the exact `Authorization` value every request must carry. */
  readonly authorization?: string;
  /** The REST gateway's receive limit (grpc-go default 4 MiB). */
  readonly gatewayRecvLimitBytes?: number;
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

const GRPC_SEND_LIMIT = 64 * 1024 * 1024;

function handle(options: ParcaServerOptions, request: RecordedRequest, response: ServerResponse): void {
  if (String(request.headers['content-type'] ?? '').startsWith('application/grpc'))
    return grpcWeb(options, request, response);
  const known = request.path === '/api/profiles/query' || VALUES_ROUTE.test(request.path);
  if (!known) return gatewayError(response, 404, 5, 'Not Found');
  if (request.method !== 'GET') return gatewayError(response, 405, 12, 'Method Not Allowed');
  if (options.authorization !== undefined && request.headers.authorization !== options.authorization) {
    return gatewayError(response, 401, 16, 'unauthenticated');
  }
  if (request.path === '/api/profiles/query') return query(options, request, response);
  return values(options, request, decodeURIComponent(VALUES_ROUTE.exec(request.path)![1]!), response);
}

function values(
  options: ParcaServerOptions,
  request: RecordedRequest,
  labelName: string,
  response: ServerResponse,
): void {
  const start = timestampParam(request.query, 'start');
  const end = timestampParam(request.query, 'end');
  if (start === undefined || end === undefined) {
    return gatewayError(response, 400, 3, 'parsing field "start"/"end": expected RFC 3339 timestamps');
  }
  const found = new Set<string>();
  for (const profile of options.profiles) {
    const value = profile.labels[labelName];
    if (value !== undefined && (start === null || profile.timeMs >= start) && (end === null || profile.timeMs <= end))
      found.add(value);
  }
  json(response, 200, { labelValues: [...found].sort(), warnings: [] });
}

function query(options: ParcaServerOptions, request: RecordedRequest, response: ServerResponse): void {
  const params = request.query;
  for (const [name, allowed] of [
    ['mode', ['MODE_SINGLE_UNSPECIFIED', 'MODE_DIFF', 'MODE_MERGE']],
    [
      'reportType',
      ['REPORT_TYPE_FLAMEGRAPH_UNSPECIFIED', 'REPORT_TYPE_PPROF', 'REPORT_TYPE_TOP', 'REPORT_TYPE_CALLGRAPH'],
    ],
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
    (profile) =>
      profile.profileType === parsed[1] &&
      matches(profile.labels, selector) &&
      profile.timeMs >= start &&
      profile.timeMs <= end,
  );
  if (found.length > 1) return gatewayError(response, 500, 13, 'test server cannot merge several profiles');
  const pprof = found[0]?.pprofGzip ?? emptyMergedPprof(parsed[1]!);
  const limit = options.gatewayRecvLimitBytes ?? 4 * 1024 * 1024;
  // The gateway receives the QueryResponse message (the pprof bytes plus a few bytes of framing) from the gRPC server.
  if (pprof.length + 16 > limit)
    return gatewayError(response, 429, 8, `grpc: received message larger than max (${pprof.length + 16} vs. ${limit})`);
  json(response, 200, { pprof: Buffer.from(pprof).toString('base64'), total: '0', filtered: '0' });
}

/**
 * The gzipped pprof Parca renders for a merge with no sample: string table, sample type and period type from the
 * profile type `name:sample_type:sample_unit:period_type:period_unit[:delta]`, nothing else.
 */
export function emptyMergedPprof(profileType: string): Uint8Array {
  const [, sampleType = '', sampleUnit = '', periodType = '', periodUnit = ''] = profileType.split(':');
  const w = new BinaryWriter();
  const strings = ['', sampleType, sampleUnit, periodType, periodUnit];
  w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(1).tag(2, WireType.Varint).int64(2).join();
  for (const text of strings) w.tag(6, WireType.LengthDelimited).string(text);
  w.tag(11, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(3).tag(2, WireType.Varint).int64(4).join();
  return new Uint8Array(gzipSync(w.finish()));
}

interface Timestamp {
  readonly ns: bigint;
}

/** `parca.query.v1alpha1.QueryService` over gRPC-web (binary protobuf). */
function grpcWeb(options: ParcaServerOptions, request: RecordedRequest, response: ServerResponse): void {
  const method = /^\/parca\.query\.v1alpha1\.QueryService\/(Values|Query)$/.exec(request.path)?.[1];
  if (request.method !== 'POST') return grpcStatus(response, 12, `malformed method name: ${request.path}`);
  if (method === undefined) return grpcStatus(response, 12, `unknown service or method ${request.path}`);
  if (options.authorization !== undefined && request.headers.authorization !== options.authorization)
    return grpcStatus(response, 16, 'unauthenticated');
  const body = request.body;
  if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5)
    return grpcStatus(response, 13, 'grpc: malformed gRPC-web frame');
  const message = body.subarray(5);
  try {
    if (method === 'Values') return grpcValues(options, message, response);
    return grpcQuery(options, message, response);
  } catch (error) {
    return grpcStatus(response, 13, `grpc: error unmarshalling request: ${String(error)}`);
  }
}

function grpcValues(options: ParcaServerOptions, message: Uint8Array, response: ServerResponse): void {
  let labelName = '';
  let profileType: string | undefined;
  let start: Timestamp | undefined;
  let end: Timestamp | undefined;
  const r = new BinaryReader(message);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (field === 1) labelName = r.string();
    else if (field === 3) start = readTimestamp(r.bytes());
    else if (field === 4) end = readTimestamp(r.bytes());
    else if (field === 5) profileType = r.string();
    else r.skip(wireType, field);
  }
  const found = new Set<string>();
  for (const profile of options.profiles) {
    const value = profile.labels[labelName];
    const ns = BigInt(profile.timeMs) * 1_000_000n;
    if (value === undefined || (profileType !== undefined && profileType !== '' && profile.profileType !== profileType))
      continue;
    // Unset bounds (Unix 0) mean no time filter at all, as in the querier.
    if (start && end && start.ns !== 0n && end.ns !== 0n && !(ns > start.ns && ns < end.ns)) continue;
    found.add(value);
  }
  const w = new BinaryWriter();
  for (const value of [...found].sort()) w.tag(1, WireType.LengthDelimited).string(value);
  grpcAnswer(response, w.finish());
}

function grpcQuery(options: ParcaServerOptions, message: Uint8Array, response: ServerResponse): void {
  let mode = 0;
  let reportType = 0;
  let merge: { query: string; start?: Timestamp; end?: Timestamp } | undefined;
  const r = new BinaryReader(message);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (field === 1) mode = r.int32();
    else if (field === 5) reportType = r.int32();
    else if (field === 3) {
      const m: { query: string; start?: Timestamp; end?: Timestamp } = { query: '' };
      const mr = new BinaryReader(r.bytes());
      while (mr.pos < mr.len) {
        const [f, wt] = mr.tag();
        if (f === 1) m.query = mr.string();
        else if (f === 2) m.start = readTimestamp(mr.bytes());
        else if (f === 3) m.end = readTimestamp(mr.bytes());
        else mr.skip(wt, f);
      }
      merge = m;
    } else r.skip(wireType, field);
  }
  if (mode !== 2 || reportType !== 1 || !merge)
    return grpcStatus(response, 12, 'test server: only merge queries with pprof reports');
  const parsed = /^([^{]+)(\{.*\})$/s.exec(merge.query);
  const selector = parsed ? parseSelector(parsed[2]!) : null;
  if (!parsed || selector === null) return grpcStatus(response, 3, 'failed to parse query');
  const startMs = merge.start ? Number(merge.start.ns / 1_000_000n) : 0;
  const endMs = merge.end ? Number(merge.end.ns / 1_000_000n) : 0;
  const found = options.profiles.filter(
    (p) => p.profileType === parsed[1] && matches(p.labels, selector) && p.timeMs >= startMs && p.timeMs <= endMs,
  );
  if (found.length > 1) return grpcStatus(response, 13, 'test server cannot merge several profiles');
  const pprof = found[0]?.pprofGzip ?? emptyMergedPprof(parsed[1]!);
  const w = new BinaryWriter();
  w.tag(6, WireType.LengthDelimited).bytes(pprof);
  const answer = w.finish();
  if (answer.length > GRPC_SEND_LIMIT)
    return grpcStatus(
      response,
      8,
      `grpc: trying to send message larger than max (${answer.length} vs. ${GRPC_SEND_LIMIT})`,
    );
  grpcAnswer(response, answer);
}

function readTimestamp(bytes: Uint8Array): Timestamp {
  let seconds = 0n;
  let nanos = 0n;
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (field === 1) seconds = BigInt(r.int64());
    else if (field === 2) nanos = BigInt(r.int32());
    else r.skip(wireType, field);
  }
  return { ns: seconds * 1_000_000_000n + nanos };
}

function frame(flag: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

function grpcAnswer(response: ServerResponse, message: Uint8Array): void {
  const trailer = Buffer.from('grpc-status:0\r\ngrpc-message:\r\n');
  response
    .writeHead(200, { 'content-type': 'application/grpc-web+proto' })
    .end(Buffer.concat([frame(0, message), frame(0x80, trailer)]));
}

function grpcStatus(response: ServerResponse, code: number, message: string): void {
  const trailer = Buffer.from(`grpc-status:${code}\r\ngrpc-message:${encodeURIComponent(message)}\r\n`);
  response.writeHead(200, { 'content-type': 'application/grpc-web+proto' }).end(frame(0x80, trailer));
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
