import { IngestRequestError, SampleTypeConfigError, UnsupportedIngestFormatError } from '../domain/ingest';
import { ProfileDecodeError } from '../domain/profile';
import { IngestAuthError } from './ingest-auth';
import { BodyTooLargeError, MultipartFormError } from './ingest-body.reader';

/**
 * An ingest failure as Pyroscope reports it: HTTP status plus a JSON body `{"code","message"}` whose code is the
 * Connect code Pyroscope derives from the status (`connectgrpc.HTTPToCode`: 400 and 413 `invalid_argument`,
 * 401 `unauthenticated`, 429 `resource_exhausted`, 422 and 5xx `unknown`).
 */
export class IngestHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'IngestHttpError';
  }

  get code(): string {
    return connectCodeFor(this.status);
  }

  /** The response body. */
  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Too many bytes for the tenant's rate limit, or too many requests in flight. */
export function tooManyRequests(message: string, retryAfterSeconds: number): IngestHttpError {
  return new IngestHttpError(429, message, { 'Retry-After': String(retryAfterSeconds) });
}

/** Maps what the ingest steps throw to the status Pyroscope would answer; anything unexpected is a 500. */
export function toIngestHttpError(err: unknown): IngestHttpError {
  if (err instanceof IngestHttpError) return err;
  if (err instanceof IngestRequestError) return new IngestHttpError(400, err.message);
  if (err instanceof IngestAuthError)
    return new IngestHttpError(401, err.message, { 'WWW-Authenticate': 'Bearer realm="flamebill"' });
  if (err instanceof BodyTooLargeError) return new IngestHttpError(413, err.message);
  if (
    err instanceof ProfileDecodeError ||
    err instanceof UnsupportedIngestFormatError ||
    err instanceof SampleTypeConfigError ||
    err instanceof MultipartFormError
  ) {
    return new IngestHttpError(422, err.message);
  }
  return new IngestHttpError(500, 'internal error while storing the profile; it was not stored');
}

function connectCodeFor(status: number): string {
  switch (status) {
    case 400:
    case 413:
      return 'invalid_argument';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'permission_denied';
    case 429:
      return 'resource_exhausted';
    case 503:
      return 'unavailable';
    default:
      return 'unknown';
  }
}
