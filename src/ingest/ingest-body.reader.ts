import busboy from 'busboy';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** The body (or a multipart part) is over the limit: ingest answers 413 without reading the rest. */
export class BodyTooLargeError extends Error {
  constructor(
    readonly limit: number,
    what = 'request body',
  ) {
    super(`${what} too large: more than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** The multipart form cannot be read (bad boundary, truncated, too many parts): ingest answers 422. */
export class MultipartFormError extends Error {
  constructor(detail: string) {
    super(`multipart form: ${detail}`);
    this.name = 'MultipartFormError';
  }
}

/** The client went away before sending the whole body: nothing to answer. */
export class ClientAbortedError extends Error {
  constructor() {
    super('client closed the connection before the body was complete');
    this.name = 'ClientAbortedError';
  }
}

/** What the Go SDK (and Node SDK 0.4) send as multipart/form-data, and the Java agent's JFR form. */
export interface MultipartProfile {
  /** The `profile` part; null when the form has none (Pyroscope then ingests nothing and answers 200). */
  readonly profile: Buffer | null;
  readonly sampleTypeConfig: Buffer | null;
  /** The Java agent's `jfr` part (a JFR recording, gzipped or not) and `labels` part (a LabelsSnapshot). */
  readonly jfr: Buffer | null;
  readonly labels: Buffer | null;
  /** A `prev_profile` part was present: Pyroscope refuses those clients ("unsupported client version"). */
  readonly hasPreviousProfile: boolean;
}

/**
 * Reads a request body into one Buffer, refusing more than `maxBytes`: as soon as the count passes the cap it stops
 * listening and rejects with BodyTooLargeError, so an oversized body is never held in memory. The chunks are joined
 * once at the end (a single chunk is returned as is).
 */
export function readCappedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = watchRequest(req, (err) =>
      err ? reject(err) : resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
    );
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) settle(new BodyTooLargeError(maxBytes));
      else chunks.push(chunk);
    });
    req.on('end', () => settle(null));
  });
}

/** The parts a push reads; any other part is read and dropped. */
const KEPT_PARTS: ReadonlySet<string> = new Set(['profile', 'sample_type_config', 'jfr', 'labels']);

/**
 * Streams a multipart/form-data body through busboy, keeping only the `profile`, `sample_type_config`, `jfr` and
 * `labels` parts as bytes, whether sent as files (what the SDKs do) or as plain fields. The whole body and each part are capped at
 * `maxBytes`.
 */
export function readMultipartProfile(
  req: IncomingMessage,
  headers: IncomingHttpHeaders,
  maxBytes: number,
): Promise<MultipartProfile> {
  return new Promise((resolve, reject) => {
    const parts = new Map<string, Buffer[]>();
    let hasPreviousProfile = false;
    let size = 0;
    let form: busboy.Busboy;
    const settle = watchRequest(req, (err) => {
      req.unpipe(form);
      if (err) reject(err);
      else {
        resolve({
          profile: joined(parts.get('profile')),
          sampleTypeConfig: joined(parts.get('sample_type_config')),
          jfr: joined(parts.get('jfr')),
          labels: joined(parts.get('labels')),
          hasPreviousProfile,
        });
      }
    });
    try {
      // latin1 maps bytes to characters one to one, so a profile sent as a plain field (no filename) comes back intact.
      form = busboy({
        headers,
        defCharset: 'latin1',
        limits: { fileSize: maxBytes, fieldSize: maxBytes, files: 8, fields: 8, parts: 16 },
      });
    } catch (err: unknown) {
      settle(new MultipartFormError((err as Error).message));
      return;
    }
    form.on('file', (name: string, stream: NodeJS.ReadableStream & { truncated?: boolean }) => {
      if (name === 'prev_profile') hasPreviousProfile = true;
      const keep = KEPT_PARTS.has(name);
      const chunks: Buffer[] = [];
      if (keep) parts.set(name, chunks);
      stream.on('data', (chunk: Buffer) => keep && chunks.push(chunk));
      stream.on('limit', () => settle(new BodyTooLargeError(maxBytes, `multipart part ${name}`)));
    });
    form.on('field', (name: string, value: string, info: { valueTruncated: boolean }) => {
      if (name === 'prev_profile') hasPreviousProfile = true;
      if (info.valueTruncated) settle(new BodyTooLargeError(maxBytes, `multipart part ${name}`));
      else if (KEPT_PARTS.has(name)) parts.set(name, [Buffer.from(value, 'latin1')]);
    });
    form.on('partsLimit', () => settle(new MultipartFormError('more than 16 parts')));
    form.on('filesLimit', () => settle(new MultipartFormError('more than 8 file parts')));
    form.on('fieldsLimit', () => settle(new MultipartFormError('more than 8 field parts')));
    form.on('error', (err: Error) => settle(new MultipartFormError(err.message)));
    form.on('close', () => settle(null));
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) settle(new BodyTooLargeError(maxBytes));
    });
    req.pipe(form);
  });
}

function joined(chunks: Buffer[] | undefined): Buffer | null {
  if (chunks === undefined) return null;
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * Wires the request's error and premature-close events to `done` and returns a `settle` that calls `done` once.
 * On an error the request is paused, so nothing more is buffered; the caller decides whether to drain or drop it.
 */
function watchRequest(req: IncomingMessage, done: (err: Error | null) => void): (err: Error | null) => void {
  let settled = false;
  const settle = (err: Error | null): void => {
    if (settled) return;
    settled = true;
    req.off('error', onError);
    req.off('close', onClose);
    if (err) {
      req.removeAllListeners('data');
      req.pause();
    }
    done(err);
  };
  const onError = (err: Error): void => settle(err.message === 'aborted' ? new ClientAbortedError() : err);
  const onClose = (): void => {
    if (!req.complete) settle(new ClientAbortedError());
  };
  req.on('error', onError);
  req.on('close', onClose);
  return settle;
}
