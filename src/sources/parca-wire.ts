import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/**
 * The two `parca.query.v1alpha1.QueryService` calls flamebill makes, in protobuf, framed for gRPC-web
 * (proto/parca/query/v1alpha1/query.proto in parca-dev/parca):
 *
 * ```proto
 * message ValuesRequest { string label_name = 1; repeated string match = 2; google.protobuf.Timestamp start = 3;
 *                         google.protobuf.Timestamp end = 4; optional string profile_type = 5; }
 * message ValuesResponse { repeated string label_values = 1; repeated string warnings = 2; }
 * message QueryRequest { Mode mode = 1; oneof options { ...; MergeProfile merge = 3; ... } ReportType report_type = 5; }
 * message MergeProfile { string query = 1; google.protobuf.Timestamp start = 2; google.protobuf.Timestamp end = 3; }
 * message QueryResponse { oneof report { ...; bytes pprof = 6; ... } int64 total = 9; int64 filtered = 10; }
 * ```
 *
 * Written with @bufbuild/protobuf's wire writer (no generated code for five messages, as in pyroscope-wire.ts).
 */
export const MODE_MERGE = 2;
export const REPORT_TYPE_PPROF = 1;

export interface ValuesRequest {
  readonly labelName: string;
  /** Exclusive bounds in ns: Parca filters `time_nanos > start AND time_nanos < end` (pkg/parcacol/querier.go `Values`). */
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly profileType?: string;
}

export interface MergeQueryRequest {
  readonly query: string;
  readonly startMs: number;
  readonly endMs: number;
}

export function encodeValuesRequest(req: ValuesRequest): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).string(req.labelName);
  timestamp(w.tag(3, WireType.LengthDelimited), req.startNs);
  timestamp(w.tag(4, WireType.LengthDelimited), req.endNs);
  if (req.profileType !== undefined) w.tag(5, WireType.LengthDelimited).string(req.profileType);
  return w.finish();
}

export function encodeMergeQueryRequest(req: MergeQueryRequest): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int32(MODE_MERGE);
  w.tag(3, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(req.query);
  timestamp(w.tag(2, WireType.LengthDelimited), BigInt(req.startMs) * 1_000_000n);
  timestamp(w.tag(3, WireType.LengthDelimited), BigInt(req.endMs) * 1_000_000n);
  w.join();
  w.tag(5, WireType.Varint).int32(REPORT_TYPE_PPROF);
  return w.finish();
}

/** `google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; }` as a nested message. */
function timestamp(w: BinaryWriter, ns: bigint): void {
  let seconds = ns / 1_000_000_000n;
  let nanos = ns % 1_000_000_000n;
  if (nanos < 0n) {
    seconds -= 1n;
    nanos += 1_000_000_000n;
  }
  w.fork();
  w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0n) w.tag(2, WireType.Varint).int32(Number(nanos));
  w.join();
}

export function decodeValuesResponse(bytes: Uint8Array): string[] {
  const values: string[] = [];
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) values.push(r.string());
    else r.skip(wireType, field);
  }
  return values;
}

/** The `pprof` report of a `QueryResponse` (a gzipped pprof), or null when the answer carries none. */
export function decodeQueryResponsePprof(bytes: Uint8Array): Uint8Array | null {
  let pprof: Uint8Array | null = null;
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (field === 6 && wireType === WireType.LengthDelimited) pprof = r.bytes();
    else r.skip(wireType, field);
  }
  return pprof;
}

/** gRPC status codes by number, for messages (grpc-go codes/codes.go). */
const GRPC_CODES = [
  'OK',
  'CANCELED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** A gRPC-web call that ended with a non-OK status, or an answer that is not gRPC-web. */
export class GrpcWebError extends Error {
  override readonly name = 'GrpcWebError';
  constructor(
    message: string,
    readonly code: number | null,
  ) {
    super(message);
  }
}

/** One length-prefixed message: flag byte 0 (uncompressed), 4-byte big-endian length, the message. */
export function grpcWebFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/**
 * Reads a unary gRPC-web answer (the gRPC-web protocol, PROTOCOL-WEB.md in grpc/grpc): data frames then a trailer
 * frame (flag 0x80) of `name: value` lines, or a trailers-only answer whose status is in the HTTP headers. A message
 * over `maxMessageBytes` is refused before it is used, as a gRPC client's receive limit refuses it.
 * @returns the one response message.
 */
export function readGrpcWebUnary(
  body: Uint8Array,
  headers: ReadonlyMap<string, string>,
  maxMessageBytes: number,
): Uint8Array {
  let message: Uint8Array | null = null;
  let trailers = new Map(headers);
  let pos = 0;
  while (pos < body.length) {
    if (body.length - pos < 5) throw new GrpcWebError('truncated gRPC-web frame header', null);
    const flag = body[pos]!;
    const length = new DataView(body.buffer, body.byteOffset + pos + 1, 4).getUint32(0);
    if (flag & 0x01)
      throw new GrpcWebError('compressed gRPC-web frames are not accepted (no grpc-accept-encoding was sent)', null);
    if (!(flag & 0x80) && length > maxMessageBytes) {
      throw new GrpcWebError(
        `received message larger than max (${length} vs. ${maxMessageBytes}); raise maxMessageBytes of the source`,
        8,
      );
    }
    if (body.length - pos - 5 < length)
      throw new GrpcWebError(
        `truncated gRPC-web frame: ${length} bytes announced, ${body.length - pos - 5} received`,
        null,
      );
    const payload = body.subarray(pos + 5, pos + 5 + length);
    pos += 5 + length;
    if (flag & 0x80) trailers = new Map([...trailers, ...parseTrailers(payload)]);
    else if (message === null) message = payload;
    else throw new GrpcWebError('more than one message in a unary answer', null);
  }
  const status = trailers.get('grpc-status');
  if (status === undefined) throw new GrpcWebError('answer has no grpc-status (not a gRPC-web server?)', null);
  const code = Number(status);
  if (code !== 0) {
    const text = decodeURIComponent(trailers.get('grpc-message') ?? '');
    throw new GrpcWebError(`gRPC status ${GRPC_CODES[code] ?? code}: ${text}`, code);
  }
  return message ?? new Uint8Array(0);
}

function parseTrailers(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of new TextDecoder().decode(bytes).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return out;
}
