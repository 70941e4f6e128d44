import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { LoopbackServer, matches, parseSelector, type RecordedRequest } from './loopback-server';

/**
 * A Pyroscope query API on loopback that speaks the Connect unary protocol the way a real Pyroscope
 * (connect-go handlers of `querier.v1.QuerierService`) does:
 *
 * - only `POST /querier.v1.QuerierService/{LabelValues,SelectMergeProfile,ProfileTypes}`; other paths 404;
 * - the request codec is the Content-Type (`application/json` or `application/proto`, else 415) and the
 *   answer uses the same codec; JSON requests are protobuf JSON, unknown fields rejected;
 * - errors are `{"code":"invalid_argument","message":…}` with the Connect HTTP status;
 * - `max_query_length` (24 h) is enforced with Pyroscope's own message; ends are inclusive;
 * - with a tenant configured, a request without that `X-Scope-OrgID` gets 401 `no org id`;
 * - answers are gzip-compressed when the request accepts gzip (Content-Encoding, as Connect does);
 * - a merge of no profile is Pyroscope's 6-byte placeholder, one empty sample type, an empty period type and the
 *   string table `[""]` (pkg/pprof/merge.go `ProfileMerge.Profile`), not an empty body;
 * - `max_query_lookback` (7 d by default, pkg/validation/limits.go) as the query frontend applies it
 *   (pkg/validation/validate.go `ValidateRangeRequest`): a range that ends before now minus the lookback is answered
 *   empty with no error (an empty `Profile`, `{}` for LabelValues and ProfileTypes: pkg/frontend/frontend_*.go), and
 *   one that starts before it is clipped silently;
 * - `ProfileTypes` lists the stored profiles' types in the (validated) range, with the `types.v1.ProfileType` fields
 *   split from the ID (`<name>:<sample type>:<sample unit>:<period type>:<period unit>`).
 */
export interface PyroscopeServerOptions {
  /** When set, the exact `X-Scope-OrgID` every request must carry. */
  readonly tenantId?: string;
  /** When set, the exact `Authorization` value every request must carry. */
  readonly authorization?: string;
  readonly maxQueryLengthMs?: number;
  /** Pyroscope's `max_query_lookback`; default 7 days, 0 = none. */
  readonly maxQueryLookbackMs?: number;
  /** The server's clock (ms), which the lookback is measured from; default the real clock. */
  readonly nowMs?: number;
  /** Stored profiles: one per series and time; `pprof` uncompressed, as Pyroscope serializes google.v1.Profile. */
  readonly profiles: readonly StoredProfile[];
}

export interface StoredProfile {
  readonly labels: Readonly<Record<string, string>>;
  readonly profileTypeId: string;
  readonly timeMs: number;
  readonly pprof: Uint8Array;
}

/** A decoded `SelectMergeProfileRequest`, as the server understood it. */
export interface DecodedSelectMergeProfile {
  readonly profileTypeId: string;
  readonly labelSelector: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly maxNodes?: bigint;
}

const DAY_MS = 24 * 3_600_000;

/** pkg/pprof/merge.go `ProfileMerge.Profile()` of nothing, marshalled: sample_type [{}], string_table [""], period_type {}. */
export const PYROSCOPE_PLACEHOLDER_PROFILE = Uint8Array.of(0x0a, 0x00, 0x32, 0x00, 0x5a, 0x00);

export async function startPyroscopeServer(options: PyroscopeServerOptions): Promise<LoopbackServer> {
  return LoopbackServer.start((request, response) => handle(options, request, response));
}

function handle(options: PyroscopeServerOptions, request: RecordedRequest, response: ServerResponse): void {
  if (options.tenantId !== undefined && request.headers['x-scope-orgid'] !== options.tenantId) {
    response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end('no org id\n');
    return;
  }
  if (options.authorization !== undefined && request.headers.authorization !== options.authorization) {
    response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end('Unauthorized\n');
    return;
  }
  const methods = ['LabelValues', 'SelectMergeProfile', 'ProfileTypes'].map((m) => `/querier.v1.QuerierService/${m}`);
  if (!methods.includes(request.path)) {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    return;
  }
  if (request.method !== 'POST') {
    response.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('Method Not Allowed\n');
    return;
  }
  const codec = request.headers['content-type'];
  if (codec !== 'application/json' && codec !== 'application/proto') {
    response.writeHead(415, { 'accept-post': 'application/json, application/proto' }).end();
    return;
  }
  if (
    request.headers['connect-protocol-version'] !== undefined &&
    request.headers['connect-protocol-version'] !== '1'
  ) {
    connectError(response, 'invalid_argument', `connect-protocol-version must be "1"`);
    return;
  }
  if (request.path.endsWith('/LabelValues')) labelValues(options, request, codec, response);
  else if (request.path.endsWith('/ProfileTypes')) profileTypes(options, request, codec, response);
  else selectMergeProfile(options, request, codec, response);
}

function profileTypes(
  options: PyroscopeServerOptions,
  request: RecordedRequest,
  codec: string,
  response: ServerResponse,
): void {
  if (codec !== 'application/json')
    return connectError(response, 'unimplemented', 'test server: ProfileTypes only in JSON');
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    return connectError(response, 'invalid_argument', `unmarshal message: ${String(error)}`);
  }
  const unknown = Object.keys(body).filter((key) => !['start', 'end'].includes(key));
  if (unknown.length > 0)
    return connectError(response, 'invalid_argument', `unmarshal message: unknown field "${unknown[0]}"`);
  const start = int64Json(body.start);
  const end = int64Json(body.end);
  if (start === null || end === null)
    return connectError(response, 'invalid_argument', 'unmarshal message: start and end must be int64');
  const range = validateRange(options, start, end);
  if ('error' in range) return connectError(response, 'invalid_argument', range.error);
  if (range.empty) return send(request, response, 'application/json', Buffer.from('{}'));
  const ids = [...new Set(inRange(options, range.start, range.end).map((p) => p.profileTypeId))].sort();
  const types = ids.map((ID) => {
    const [name, sampleType, sampleUnit, periodType, periodUnit] = ID.split(':');
    return { ID, name, sampleType, sampleUnit, periodType, periodUnit };
  });
  send(
    request,
    response,
    'application/json',
    Buffer.from(JSON.stringify(types.length === 0 ? {} : { profileTypes: types })),
  );
}

function labelValues(
  options: PyroscopeServerOptions,
  request: RecordedRequest,
  codec: string,
  response: ServerResponse,
): void {
  if (codec !== 'application/json')
    return connectError(response, 'unimplemented', 'test server: LabelValues only in JSON');
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    return connectError(response, 'invalid_argument', `unmarshal message: ${String(error)}`);
  }
  const unknown = Object.keys(body).filter((key) => !['name', 'matchers', 'start', 'end'].includes(key));
  if (unknown.length > 0)
    return connectError(response, 'invalid_argument', `unmarshal message: unknown field "${unknown[0]}"`);
  const start = int64Json(body.start);
  const end = int64Json(body.end);
  if (typeof body.name !== 'string' || start === null || end === null) {
    return connectError(response, 'invalid_argument', 'unmarshal message: name must be a string, start and end int64');
  }
  const range = validateRange(options, start, end);
  if ('error' in range) return connectError(response, 'invalid_argument', range.error);
  const selectors = ((body.matchers ?? []) as string[]).map(parseSelector);
  if (selectors.some((selector) => selector === null))
    return connectError(response, 'invalid_argument', 'parse error in matchers');
  const names = new Set<string>();
  for (const profile of range.empty ? [] : inRange(options, range.start, range.end)) {
    const labels: Record<string, string> = { ...profile.labels, __profile_type__: profile.profileTypeId };
    const value = labels[body.name];
    if (value !== undefined && selectors.every((selector) => matches(labels, selector!))) names.add(value);
  }
  // protobuf JSON leaves out empty lists: no names is `{}`.
  const answer = names.size === 0 ? {} : { names: [...names].sort() };
  send(request, response, 'application/json', Buffer.from(JSON.stringify(answer)));
}

function selectMergeProfile(
  options: PyroscopeServerOptions,
  request: RecordedRequest,
  codec: string,
  response: ServerResponse,
): void {
  if (codec === 'application/json') {
    // A real server answers a JSON request with the profile as JSON, which is not pprof.
    send(request, response, 'application/json', Buffer.from('{"sampleType":[],"stringTable":[""]}'));
    return;
  }
  let decoded: DecodedSelectMergeProfile;
  try {
    decoded = decodeSelectMergeProfileRequest(request.body);
  } catch (error) {
    return connectError(response, 'invalid_argument', `unmarshal message: ${String(error)}`);
  }
  if (!/^[^:]+(:[^:]+){4}$/.test(decoded.profileTypeId)) {
    return connectError(response, 'invalid_argument', `failed to parse profile type: ${decoded.profileTypeId}`);
  }
  const selector = parseSelector(decoded.labelSelector);
  if (selector === null) return connectError(response, 'invalid_argument', `parse error: ${decoded.labelSelector}`);
  const range = validateRange(options, decoded.start, decoded.end);
  if ('error' in range) return connectError(response, 'invalid_argument', range.error);
  // Past the lookback: `connect.NewResponse(&profilev1.Profile{})`, which marshals to nothing.
  if (range.empty) return send(request, response, 'application/proto', Buffer.alloc(0));
  const found = inRange(options, range.start, range.end).filter(
    (profile) => profile.profileTypeId === decoded.profileTypeId && matches(profile.labels, selector),
  );
  if (found.length > 1) return connectError(response, 'internal', 'test server cannot merge several profiles');
  send(request, response, 'application/proto', Buffer.from(found[0]?.pprof ?? PYROSCOPE_PLACEHOLDER_PROFILE));
}

/** Decodes the request with @bufbuild/protobuf's reader, rejecting wrong wire types like a generated decoder. */
export function decodeSelectMergeProfileRequest(bytes: Uint8Array): DecodedSelectMergeProfile {
  const reader = new BinaryReader(bytes);
  const fields: { profileTypeId: string; labelSelector: string; start: bigint; end: bigint; maxNodes?: bigint } = {
    profileTypeId: '',
    labelSelector: '',
    start: 0n,
    end: 0n,
  };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    const expect = (type: WireType): void => {
      if (wireType !== type) throw new Error(`field ${field}: wire type ${wireType}, expected ${type}`);
    };
    switch (field) {
      case 1:
        expect(WireType.LengthDelimited);
        fields.profileTypeId = reader.string();
        break;
      case 2:
        expect(WireType.LengthDelimited);
        fields.labelSelector = reader.string();
        break;
      case 3:
        expect(WireType.Varint);
        fields.start = BigInt(reader.int64());
        break;
      case 4:
        expect(WireType.Varint);
        fields.end = BigInt(reader.int64());
        break;
      case 5:
        expect(WireType.Varint);
        fields.maxNodes = BigInt(reader.int64());
        break;
      default:
        reader.skip(wireType);
    }
  }
  return fields;
}

function inRange(options: PyroscopeServerOptions, start: bigint, end: bigint): StoredProfile[] {
  return options.profiles.filter((profile) => BigInt(profile.timeMs) >= start && BigInt(profile.timeMs) <= end);
}

/**
 * Pyroscope's `ValidateRangeRequest` (pkg/validation/validate.go): the lookback first (a range wholly before it is
 * empty, one starting before it is clipped), then `max_query_length` on what is left.
 */
function validateRange(
  options: PyroscopeServerOptions,
  start: bigint,
  end: bigint,
): { error: string } | { empty: boolean; start: bigint; end: bigint } {
  if (end < start) return { error: `invalid query, through < from (${end} < ${start})` };
  const lookback = BigInt(options.maxQueryLookbackMs ?? 7 * DAY_MS);
  if (lookback > 0n) {
    const minStart = BigInt(options.nowMs ?? Date.now()) - lookback;
    if (end < minStart) return { empty: true, start, end };
    if (start < minStart) start = minStart;
  }
  const max = BigInt(options.maxQueryLengthMs ?? DAY_MS);
  if (end - start <= max) return { empty: false, start, end };
  return {
    error: `the query time range exceeds the limit (query length: ${goDuration(end - start)}, limit: ${goDuration(max)})`,
  };
}

/** protobuf JSON int64: a number or a decimal string. */
function int64Json(value: unknown): bigint | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return null;
}

const CONNECT_STATUS: Record<string, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  resource_exhausted: 429,
  internal: 500,
  unimplemented: 501,
  unavailable: 503,
};

/** A Connect unary error: JSON body, HTTP status from the code. */
export function connectError(response: ServerResponse, code: string, message: string): void {
  response
    .writeHead(CONNECT_STATUS[code] ?? 500, { 'content-type': 'application/json' })
    .end(JSON.stringify({ code, message }));
}

function send(request: RecordedRequest, response: ServerResponse, contentType: string, body: Buffer): void {
  const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (acceptsGzip && body.byteLength > 0) {
    response.writeHead(200, { 'content-type': contentType, 'content-encoding': 'gzip' }).end(gzipSync(body));
  } else {
    response.writeHead(200, { 'content-type': contentType }).end(body);
  }
}

function goDuration(ms: bigint): string {
  const totalSeconds = ms / 1000n;
  const hours = totalSeconds / 3600n;
  const minutes = (totalSeconds % 3600n) / 60n;
  const seconds = Number(totalSeconds % 60n) + Number(ms % 1000n) / 1000;
  return `${hours}h${minutes}m${seconds}s`;
}
