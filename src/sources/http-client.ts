import { setTimeout as delay } from 'node:timers/promises';
import type { SourceLogger } from './profile-source';
import type { HttpSettings } from './source-settings';

/** One HTTP call a source wants made. */
export interface HttpCallSpec {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
  /** Per-attempt timeout in ms when it differs from the settings (a 30 s pprof capture needs more). */
  readonly timeoutMs?: number;
  /**
   * Tells a non-2xx answer that means "busy with something else, ask at the next schedule" (a Go program whose CPU
   * profiler is in use): thrown at once as a {@link SourceBusyError}, never retried, since a retry soon after would
   * find the profiler still busy and each attempt would be a new capture.
   */
  readonly busy?: (status: number, bodySnippet: string) => boolean;
}

/** A successful (2xx) response, fully read. */
export interface HttpResult {
  readonly status: number;
  readonly contentType?: string;
  readonly bytes: Uint8Array;
  /** Response headers, lower-case names (gRPC-web puts the status of a trailers-only answer there). */
  readonly headers: ReadonlyMap<string, string>;
  /** How many attempts it took (1 = first try). */
  readonly attempts: number;
}

/** The server answered with a status that retrying cannot fix (4xx other than 429, or 3xx). */
export class SourceHttpError extends Error {
  override readonly name = 'SourceHttpError';
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
    /** The start of the response body, decoded as UTF-8. */
    readonly bodySnippet: string,
  ) {
    super(message);
  }
}

/**
 * The server is busy with work of its own that a retry now would not outlast (see `HttpCallSpec.busy`). `busy` marks
 * it for the work runner, which records the item as busy (not failed) and leaves it to the next schedule.
 */
export class SourceBusyError extends Error {
  override readonly name = 'SourceBusyError';
  readonly busy = true;
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
  }
}

/** Every attempt failed with a retryable error (5xx, 429, timeout, connection error). */
export class SourceUnavailableError extends Error {
  override readonly name = 'SourceUnavailableError';
  constructor(
    message: string,
    readonly url: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the client needs from its surroundings; tests pass a fake sleep and a fixed random. */
export interface HttpClientDeps {
  readonly logger: SourceLogger;
  /** Waits `ms` or rejects when the signal aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1); drives the backoff jitter. */
  readonly random?: () => number;
}

const BODY_SNIPPET_CHARS = 1000;

/** A failed attempt that may succeed if tried again. */
interface RetryableFailure {
  readonly reason: string;
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

/**
 * HTTP for pull sources on Node's built-in fetch (undici): every attempt has its own timeout covering
 * the whole body; 5xx, 429, timeouts and connection errors are retried with exponential backoff and
 * jitter up to `maxAttempts`; any other non-2xx is a {@link SourceHttpError} carrying the status and the
 * start of the body. The caller's signal cancels at once, between attempts too.
 */
export class SourceHttpClient {
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly sourceName: string,
    private readonly settings: HttpSettings,
    /** Sent with every call (auth, tenant); a call's own headers win. */
    private readonly defaultHeaders: Readonly<Record<string, string>>,
    private readonly deps: HttpClientDeps,
  ) {
    this.sleep = deps.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    this.random = deps.random ?? Math.random;
  }

  /** Makes the call, retrying as described on the class. */
  async call(spec: HttpCallSpec, signal: AbortSignal): Promise<HttpResult> {
    const shownUrl = redactUrl(spec.url);
    let lastFailure: RetryableFailure | undefined;
    for (let attempt = 1; attempt <= this.settings.maxAttempts; attempt++) {
      signal.throwIfAborted();
      const outcome = await this.attempt(spec, shownUrl, signal);
      if ('bytes' in outcome) return { ...outcome, attempts: attempt };
      lastFailure = outcome;
      if (attempt === this.settings.maxAttempts) break;
      const waitMs = this.backoffMs(attempt, outcome.retryAfterMs);
      this.deps.logger.warn(
        {
          source: this.sourceName,
          url: shownUrl,
          attempt,
          maxAttempts: this.settings.maxAttempts,
          waitMs,
          reason: outcome.reason,
        },
        'source call failed, retrying',
      );
      await this.sleep(waitMs, signal);
    }
    const message =
      `${this.sourceName}: ${spec.method} ${shownUrl} failed after ${this.settings.maxAttempts} attempt(s): ` +
      (lastFailure?.reason ?? 'unknown error');
    throw new SourceUnavailableError(message, shownUrl, this.settings.maxAttempts, { cause: lastFailure?.cause });
  }

  /** One attempt: a result, a retryable failure, or a thrown non-retryable error. */
  private async attempt(
    spec: HttpCallSpec,
    shownUrl: string,
    signal: AbortSignal,
  ): Promise<Omit<HttpResult, 'attempts'> | RetryableFailure> {
    const timeoutMs = spec.timeoutMs ?? this.settings.timeoutSeconds * 1000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    let response: Response;
    let bytes: Uint8Array;
    try {
      response = await fetch(spec.url, {
        method: spec.method,
        headers: { ...this.defaultHeaders, ...spec.headers },
        body: spec.body,
        signal: combined,
      });
      bytes = await readBody(response, this.settings.maxResponseBytes, shownUrl);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof ResponseTooLargeError) throw error;
      if (timeout.aborted) return { reason: `no complete answer within ${timeoutMs} ms`, cause: error };
      return { reason: `connection error: ${describeError(error)}`, cause: error };
    }
    const contentType = response.headers.get('content-type') ?? undefined;
    if (response.status >= 200 && response.status < 300)
      return { status: response.status, contentType, bytes, headers: new Map(response.headers) };
    const snippet = bodySnippet(bytes);
    const statusText = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (spec.busy?.(response.status, snippet)) {
      throw new SourceBusyError(
        `${this.sourceName}: ${spec.method} ${shownUrl} is busy: ${statusText}: ${snippet}`,
        shownUrl,
      );
    }
    if (response.status === 429 || response.status >= 500) {
      return {
        reason: `${statusText}: ${snippet}`,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      };
    }
    throw new SourceHttpError(
      `${this.sourceName}: ${spec.method} ${shownUrl} returned ${statusText}: ${snippet}`,
      response.status,
      shownUrl,
      snippet,
    );
  }

  /** Exponential backoff with "equal jitter": half fixed, half random; a server's Retry-After wins if longer. */
  private backoffMs(failedAttempt: number, retryAfterMs: number | undefined): number {
    const { backoffBaseMs, backoffMaxMs } = this.settings;
    const exponential = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (failedAttempt - 1));
    const jittered = Math.round(exponential / 2 + (this.random() * exponential) / 2);
    return retryAfterMs === undefined ? jittered : Math.min(backoffMaxMs, Math.max(jittered, retryAfterMs));
  }
}

class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

/** Reads the body into memory, refusing (and cancelling) one that exceeds `maxBytes`. */
async function readBody(response: Response, maxBytes: number, shownUrl: string): Promise<Uint8Array> {
  const tooLarge = (): ResponseTooLargeError =>
    new ResponseTooLargeError(`${shownUrl}: response larger than the ${maxBytes}-byte limit (http.maxResponseBytes)`);
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes && response.headers.get('content-encoding') === null) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (response.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return concatChunks(chunks, total);
}

function concatChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** The start of a body as text, for error messages and logs. */
function bodySnippet(bytes: Uint8Array): string {
  if (bytes.byteLength === 0) return '(empty body)';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, BODY_SNIPPET_CHARS * 4)).trim();
  if (text.length <= BODY_SNIPPET_CHARS) return text;
  return `${text.slice(0, BODY_SNIPPET_CHARS)}… (${bytes.byteLength} bytes in total)`;
}

/** `Retry-After` as delta-seconds (the only form rate limiters in front of profilers send in practice). */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}

/** A URL without user:password, safe for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** undici reports connection failures as `TypeError: fetch failed` with the real reason in `cause`. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${cause.message} (${code})` : cause.message;
  }
  return error.message;
}
