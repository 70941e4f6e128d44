import type { ServerResponse } from 'node:http';
import { PushRequestDecodeError } from '../domain/ingest/connect-push';
import { toIngestHttpError } from './ingest-error';

/**
 * The server side of the Connect unary protocol (https://connectrpc.com/docs/protocol), as far as
 * `push.v1.PusherService/Push` needs it: codec from Content-Type, request compression, error bodies and the
 * code-to-status table. Hand-written rather than @connectrpc/connect-node: that library needs generated message code
 * (a protoc-gen-es build step) and its own router, which would bypass the ingest path's streamed, capped body reading,
 * drain-on-reject and Nest's request logging; one unary method is a few dozen lines of protocol.
 */

/** Connect error codes and the HTTP status each maps to (connect-go `connect.go`, protocol spec "Error Codes"). */
export const CONNECT_STATUS = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
} as const;

export type ConnectCode = keyof typeof CONNECT_STATUS;

/** A Connect error: written as `{"code","message"}` with the status of its code. */
export class ConnectError extends Error {
  constructor(
    readonly code: ConnectCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ConnectError';
  }

  get status(): number {
    return CONNECT_STATUS[this.code];
  }
}

/** The codecs of a unary request's Content-Type (`application/proto`, `application/json`, charset allowed); null: 415. */
export function connectCodec(contentType: string | undefined): 'proto' | 'json' | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/proto') return 'proto';
  if (type === 'application/json') return 'json';
  return null;
}

/**
 * What the ingest steps throw, as Pyroscope's Connect push answers it. Pyroscope wraps every profile validation
 * failure as `invalid_argument` (pkg/distributor/distributor.go `Push`), including an uncompressed size over its
 * limit (`BodySizeLimit`, `ProfileSizeLimit`): so 413 and 422 of `/ingest` are `invalid_argument` here, which Alloy
 * does not retry, as it should not. A rate limit is `resource_exhausted` (`rateLimit` there): Alloy retries it.
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof PushRequestDecodeError) return new ConnectError('invalid_argument', err.message);
  const http = toIngestHttpError(err);
  switch (http.status) {
    case 400:
    case 413:
    case 422:
      return new ConnectError('invalid_argument', http.message);
    case 401:
      return new ConnectError('unauthenticated', http.message, http.headers);
    case 429:
      return new ConnectError('resource_exhausted', http.message, http.headers);
    case 503:
      return new ConnectError('unavailable', http.message, http.headers);
    default:
      return new ConnectError('internal', http.message);
  }
}

/** Writes a Connect error (always JSON, whatever the request's codec). */
export function sendConnectError(res: ServerResponse, error: ConnectError): void {
  if (res.headersSent) return;
  const text = JSON.stringify({ code: error.code, message: error.message });
  res.writeHead(error.status, {
    ...error.headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Writes the unary success answer: an empty message (`PushResponse {}`) in the request's codec. */
export function sendConnectEmpty(res: ServerResponse, codec: 'proto' | 'json'): void {
  if (res.headersSent) return;
  const body = codec === 'json' ? '{}' : '';
  res.writeHead(200, {
    'Content-Type': codec === 'json' ? 'application/json' : 'application/proto',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** 415 for a Content-Type that is no Connect unary codec, naming the ones accepted (connect-go answers so too). */
export function sendUnsupportedMediaType(res: ServerResponse): void {
  if (res.headersSent) return;
  res.writeHead(415, { 'Accept-Post': 'application/json, application/proto', 'Content-Length': 0 });
  res.end();
}
