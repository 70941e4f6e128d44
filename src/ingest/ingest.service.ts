import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import {
  parseSampleTypeConfig,
  planIngest,
  windowOf,
  type IngestPlan,
  type IngestQuery,
  type PushFoldOptions,
} from '../domain/ingest';
import { decodePushRequest, resolvePushSeries, type PushSeries } from '../domain/ingest/connect-push';
import type { TimeWindow } from '../domain/time-window';
import { ProfileStoreService } from '../profiles/profile-store.service';
import { IngestAuthenticator } from './ingest-auth';
import {
  BodyTooLargeError,
  ClientAbortedError,
  MultipartFormError,
  readCappedBody,
  readMultipartProfile,
} from './ingest-body.reader';
import { ingestContentType, type ShieldedRequest } from './ingest-body.shield';
import { IngestHttpError, toIngestHttpError, tooManyRequests } from './ingest-error';
import { FoldQueueFullError, IngestFoldPool } from './ingest-fold.pool';
import type { FoldTaskResult } from './ingest-fold.task';
import { IngestMetrics } from './ingest-metrics';
import { IngestRateLimiter } from './ingest-rate-limiter';
import {
  ConnectError,
  connectCodec,
  sendConnectEmpty,
  sendConnectError,
  sendUnsupportedMediaType,
  toConnectError,
} from './connect-protocol';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { IngestSettings } from '../config/ingest-settings';

/** Injection token of the clock ingest reads (`() => epoch ms`); tests may pin it. */
export const INGEST_CLOCK = Symbol('flamebill.ingestClock');

/** The 200 answer: what happened to the push. */
export interface IngestResult {
  readonly status: 'stored' | 'duplicate' | 'skipped';
  readonly service: string;
  readonly window: string;
  readonly id?: string;
  readonly profileType?: string;
  readonly cpuNanoseconds?: string;
  readonly reason?: string;
  /** Label keys whose values past `labels.maxValuesPerKey` were folded into `__other__` (only when there are some). */
  readonly labelValuesFolded?: readonly string[];
}

/** After an early answer (413, 429) the rest of the body is read and dropped, up to this much, then the socket is cut. */
const DRAIN_LIMIT_BYTES = 256 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 30_000;

/**
 * `POST /ingest`: authenticate, validate metadata, read the body under a cap, fold once (in a fold worker thread),
 * commit one row (grouped with concurrent pushes into one commit by ProfileStoreService).
 * A 200 is sent only after the row is committed (or found already committed: a retry), so it means counted once.
 * Every rejection happens before anything is written, so a 4xx changes nothing.
 */
@Injectable()
export class IngestService implements OnApplicationShutdown {
  private readonly logger = new Logger('Ingest');
  private readonly ingest: IngestSettings;
  private readonly foldOptions: PushFoldOptions;
  /** Null in an application context without HTTP (CLI jobs), which must start without the ingest tokens. */
  private readonly auth: IngestAuthenticator | null;
  private readonly limiter: IngestRateLimiter;
  private readonly folds: IngestFoldPool;
  private inFlight = 0;

  /** (service, label key) pairs already logged as capped, so a chatty agent logs once per process. */
  private readonly cappedSeen = new Set<string>();

  constructor(
    @InjectSettings() settings: Settings,
    private readonly store: ProfileStoreService,
    private readonly metrics: IngestMetrics,
    @Inject(INGEST_CLOCK) private readonly clock: () => number,
    adapterHost: HttpAdapterHost,
  ) {
    this.ingest = settings.ingest;
    this.foldOptions = {
      labelKeys: settings.labels.keys,
      maxLabelValues: settings.labels.maxValuesPerKey,
      maxInflatedBytes: this.ingest.maxInflatedBytes,
      countWallAsCpu: this.ingest.countWallAsCpu,
    };
    // Tokens are checked at start where pushes are served, so a missing variable fails `serve` at once.
    this.auth = adapterHost.httpAdapter ? new IngestAuthenticator(this.ingest, process.env) : null;
    this.limiter = new IngestRateLimiter(this.ingest.rateLimit.bytesPerSecond, this.ingest.rateLimit.burstBytes, clock);
    // Every push in flight may wait for a worker, so the queue is bounded by the in-flight limit.
    this.folds = new IngestFoldPool({
      workers: this.ingest.workers,
      maxQueue: this.ingest.maxConcurrentRequests,
      inlineMaxBytes: this.ingest.inlineFoldMaxBytes,
    });
  }

  /** After the HTTP server has closed (Nest runs this hook after it), so pushes in flight finish their fold first. */
  async onApplicationShutdown(): Promise<void> {
    await this.folds.close();
  }

  /** Handles one push end to end and writes the response (Pyroscope's JSON error body on failure). */
  async handle(req: ShieldedRequest, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      const result = await this.accept(req);
      this.metrics.requests.inc({ status: '200', outcome: result.reason ? `skipped-${result.reason}` : result.status });
      if (result.status === 'stored') this.metrics.processing.observe(Number(process.hrtime.bigint() - started) / 1e9);
      sendJson(res, 200, result);
    } catch (err: unknown) {
      if (err instanceof ClientAbortedError) {
        this.metrics.requests.inc({ status: '499', outcome: 'aborted' });
        req.socket.destroy();
        return;
      }
      const failure = toIngestHttpError(err);
      this.metrics.requests.inc({ status: String(failure.status), outcome: 'rejected' });
      if (failure.status >= 500) this.logger.error(`push failed: ${(err as Error).stack ?? String(err)}`);
      sendJson(res, failure.status, failure.toJSON(), failure.headers);
      if (!req.complete) drainRest(req);
    }
  }

  private async accept(req: ShieldedRequest): Promise<IngestResult> {
    const tenant = this.authenticate(req);
    const plan = planIngest(queryOf(req.url), ingestContentType(req), this.clock(), this.ingest.windowSeconds);
    return this.admit(req, tenant, async (declared) => {
      const { body, jfrLabels } = await this.readProfile(req, plan);
      this.metrics.bytes.inc({ outcome: 'read' }, body.length);
      if (declared === null) this.checkRate(tenant, body.length + (jfrLabels?.length ?? 0));
      const outcome = await this.fold(plan, body, jfrLabels);
      if (outcome.action === 'unreadable') throw new IngestHttpError(422, outcome.message);
      return this.store1(plan, plan.window, body, outcome);
    });
  }

  private authenticate(req: ShieldedRequest): string {
    return (this.auth ?? new IngestAuthenticator(this.ingest, process.env)).authenticate(req.headers.authorization);
  }

  /** The limits every push passes before its body is read: declared size, pushes in flight, the tenant's rate. */
  private async admit<T>(
    req: ShieldedRequest,
    tenant: string,
    work: (declared: number | null) => Promise<T>,
  ): Promise<T> {
    const declared = declaredLength(req);
    if (declared !== null && declared > this.ingest.maxBodyBytes) throw new BodyTooLargeError(this.ingest.maxBodyBytes);
    if (this.inFlight >= this.ingest.maxConcurrentRequests) {
      throw tooManyRequests(`more than ${this.ingest.maxConcurrentRequests} pushes in flight; retry shortly`, 1);
    }
    this.inFlight++;
    try {
      if (declared !== null) this.checkRate(tenant, declared);
      return await work(declared);
    } finally {
      this.inFlight--;
    }
  }

  /**
   * `POST /push.v1.PusherService/Push` (Connect unary): what Grafana Alloy's `pyroscope.write` and pyroscope-rs >= 1.0
   * send. Each raw sample of each series is one push as `/ingest` would take it (same tokens, limits, fold workers,
   * label handling and digest-based exactly-once), its service from `service_name`, its window from the profile's own
   * `time_nanos`. Every sample is folded before any is stored, so a rejected request (4xx) stores nothing, and a
   * retry after a failure counts the already stored samples once (their digests match). Pyroscope's own handler:
   * pkg/distributor/distributor.go `Push`.
   */
  async handleConnectPush(req: ShieldedRequest, res: ServerResponse): Promise<void> {
    const codec = connectCodec(ingestContentType(req));
    if (codec === null) {
      this.metrics.requests.inc({ status: '415', outcome: 'rejected' });
      sendUnsupportedMediaType(res);
      if (!req.complete) drainRest(req);
      return;
    }
    try {
      const results = await this.acceptConnect(req, codec);
      for (const r of results)
        this.metrics.requests.inc({ status: '200', outcome: r.reason ? `skipped-${r.reason}` : r.status });
      sendConnectEmpty(res, codec);
    } catch (err: unknown) {
      if (err instanceof ClientAbortedError) {
        this.metrics.requests.inc({ status: '499', outcome: 'aborted' });
        req.socket.destroy();
        return;
      }
      const failure = toConnectError(err);
      this.metrics.requests.inc({ status: String(failure.status), outcome: 'rejected' });
      if (failure.status >= 500) this.logger.error(`Connect push failed: ${(err as Error).stack ?? String(err)}`);
      sendConnectError(res, failure);
      if (!req.complete) drainRest(req);
    }
  }

  private async acceptConnect(req: ShieldedRequest, codec: 'proto' | 'json'): Promise<IngestResult[]> {
    const tenant = this.authenticate(req);
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    // Connect: a request compression the server does not support is `unimplemented` (protocol spec, "Unary-Request").
    if (encoding !== 'identity' && encoding !== 'gzip')
      throw new ConnectError(
        'unimplemented',
        `unknown compression ${JSON.stringify(encoding)}: supported encodings are gzip, identity`,
      );
    return this.admit(req, tenant, async (declared) => {
      const wire = await readCappedBody(req, this.ingest.maxBodyBytes);
      this.metrics.bytes.inc({ outcome: 'read' }, wire.length);
      if (declared === null) this.checkRate(tenant, wire.length);
      const body = encoding === 'gzip' ? await this.inflate(wire) : wire;
      const message = decodePushRequest(body, codec);
      const now = this.clock();
      const items: Array<{ plan: IngestPlan; raw: Buffer; where: string }> = [];
      message.series.forEach((series, i) => {
        const resolved = resolvePushSeries(series.labels, i);
        series.samples.forEach((sample, j) =>
          items.push({
            plan: connectPlan(resolved, now, this.ingest.windowSeconds),
            raw: Buffer.from(sample.rawProfile),
            where: `series[${i}].samples[${j}]`,
          }),
        );
      });
      // pkg/distributor/distributor.go `PushBatch`: a request with no profile is `invalid_argument` "no profiles received".
      if (items.length === 0) throw new ConnectError('invalid_argument', 'no profiles received');
      const folded: Array<{
        plan: IngestPlan;
        raw: Buffer;
        outcome: Exclude<FoldTaskResult, { action: 'unreadable' }>;
      }> = [];
      for (const { plan, raw, where } of items) {
        const outcome = await this.fold(plan, raw, null);
        if (outcome.action === 'unreadable') throw new ConnectError('invalid_argument', `${where}: ${outcome.message}`);
        folded.push({ plan, raw, outcome });
      }
      const results: IngestResult[] = [];
      for (const { plan, raw, outcome } of folded) {
        const window =
          outcome.action === 'store' && outcome.timeNanos > 0n
            ? windowOf(Number(outcome.timeNanos / 1_000_000n), this.ingest.windowSeconds)
            : plan.window;
        results.push(await this.store1(plan, window, raw, outcome));
      }
      return results;
    });
  }

  /** Inflates a gzip request body off the event loop, under the inflated-size cap (a bomb is `invalid_argument`). */
  private async inflate(wire: Buffer): Promise<Buffer> {
    try {
      return await gunzipAsync(wire, { maxOutputLength: this.ingest.maxInflatedBytes });
    } catch (err: unknown) {
      const tooLarge = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
      throw new ConnectError(
        'invalid_argument',
        tooLarge
          ? `inflated request exceeds the limit of ${this.ingest.maxInflatedBytes} bytes`
          : `Content-Encoding: gzip, but the body is not gzip: ${(err as Error).message}`,
      );
    }
  }

  /** Stores one folded push in `window` (or says why not) and reports it as the 200 answer of `/ingest` does. */
  private async store1(
    plan: IngestPlan,
    target: TimeWindow,
    body: Buffer,
    outcome: Exclude<FoldTaskResult, { action: 'unreadable' }>,
  ): Promise<IngestResult> {
    const window = target.start.toISOString();
    if (outcome.action === 'skip') {
      this.logger.debug(`push for ${plan.series.service} not stored: ${outcome.reason} (${outcome.detail})`);
      return { status: 'skipped', service: plan.series.service, window, reason: outcome.reason };
    }
    const saved = await this.store.storeSerialized({
      source: 'push',
      service: outcome.service,
      window: target,
      digest: outcome.digest,
      seriesLabels: plan.series.seriesLabels,
      profileType: outcome.profileType,
      serializedFold: outcome.serializedFold,
      sampleCount: outcome.sampleCount,
      cpuNanoseconds: outcome.cpuNanoseconds,
      wallOnly: outcome.wallOnly,
      raw: this.ingest.keepRaw ? body : null,
      byteSize: body.length,
    });
    if (!saved.duplicate) this.metrics.cpuNanoseconds.inc(Number(outcome.cpuNanoseconds));
    const capped = outcome.cappedLabelKeys;
    if (capped.length > 0 && !saved.duplicate) this.reportCapped(outcome.service, capped);
    return {
      status: saved.duplicate ? 'duplicate' : 'stored',
      service: outcome.service,
      window,
      id: saved.id,
      profileType: outcome.profileType,
      cpuNanoseconds: outcome.cpuNanoseconds.toString(),
      ...(capped.length > 0 ? { labelValuesFolded: capped } : {}),
    };
  }

  /** Counts every push with a capped label key, and logs each (service, key) the first time this process sees it. */
  private reportCapped(service: string, keys: readonly string[]): void {
    for (const key of keys) {
      this.metrics.cappedLabelKeys.inc({ key });
      const seen = `${service}\u0000${key}`;
      if (this.cappedSeen.has(seen) || this.cappedSeen.size >= 10_000) continue;
      this.cappedSeen.add(seen);
      this.logger.warn(
        `label ${key} of ${service} has more than ${this.foldOptions.maxLabelValues} values in a push: its costliest values are kept, the rest are billed under ${key}=__other__`,
      );
    }
  }

  /** gunzip, classify, fold and serialize in a worker thread; a full worker queue is a 429. */
  private async fold(plan: IngestPlan, body: Buffer, jfrLabels: Buffer | null): Promise<FoldTaskResult> {
    try {
      return await this.folds.fold({ plan, body, jfrLabels, options: this.foldOptions });
    } catch (err: unknown) {
      if (err instanceof FoldQueueFullError) throw tooManyRequests(err.message, 1);
      throw err;
    }
  }

  /**
   * The profile bytes: the whole body, or the `profile` part of a multipart form (empty when it has none); for JFR
   * the `jfr` part (required, as in Pyroscope) and the `labels` part of the Java agent's form, or the whole body.
   */
  private async readProfile(
    req: ShieldedRequest,
    plan: IngestPlan,
  ): Promise<{ body: Buffer; jfrLabels: Buffer | null }> {
    const max = this.ingest.maxBodyBytes;
    const contentType = ingestContentType(req);
    const isForm = (contentType ?? '').toLowerCase().includes('multipart/form-data');
    if (plan.kind !== 'multipart' && !(plan.kind === 'jfr' && isForm))
      return { body: await readCappedBody(req, max), jfrLabels: null };
    const headers = { ...req.headers, 'content-type': contentType };
    const form = await readMultipartProfile(req, headers, max);
    if (plan.kind === 'jfr') {
      if (!form.jfr)
        throw new MultipartFormError('no jfr part (the Pyroscope Java agent sends the recording as a part named jfr)');
      return { body: form.jfr, jfrLabels: form.labels };
    }
    if (form.hasPreviousProfile) {
      throw new MultipartFormError(
        'unsupported client version (prev_profile part); update github.com/grafana/pyroscope-go to the latest version',
      );
    }
    if (form.sampleTypeConfig) parseSampleTypeConfig(form.sampleTypeConfig);
    return { body: form.profile ?? Buffer.alloc(0), jfrLabels: null };
  }

  private checkRate(tenant: string, bytes: number): void {
    const decision = this.limiter.take(tenant, bytes);
    if (!decision.ok) {
      throw tooManyRequests(
        `tenant ${tenant} is over its ingestion rate of ${this.ingest.rateLimit.bytesPerSecond} bytes/s`,
        decision.retryAfterSeconds,
      );
    }
  }
}

const gunzipAsync = promisify(gunzip);

/**
 * One raw sample of a Connect series as an `/ingest` push of a pprof: the digest's identity is the series' labels
 * (all of them, sorted) with no time range, since the time is in the profile bytes; `window` is the fallback for a
 * profile without `time_nanos` (the time it was received, as Pyroscope's `fixTime` in
 * pkg/og/convert/pprof/profile.go does for agents that leave it out).
 */
function connectPlan(series: PushSeries, nowMs: number, windowSeconds: number): IngestPlan {
  return {
    kind: 'pprof',
    name: { appName: series.service, labels: series.seriesLabels },
    canonicalName: series.canonicalName,
    series,
    fromMs: 0,
    untilMs: 0,
    window: windowOf(nowMs, windowSeconds),
    sampleRate: null,
    units: undefined,
    spyName: undefined,
  };
}

/** The query parameters as plain strings (first value wins), without Express's nested-object parsing. */
function queryOf(url: string | undefined): IngestQuery {
  const q = url?.indexOf('?') ?? -1;
  const params = new URLSearchParams(q < 0 ? '' : url!.slice(q + 1));
  const get = (key: string): string | undefined => params.get(key) ?? undefined;
  return {
    name: get('name'),
    from: get('from'),
    until: get('until'),
    format: get('format'),
    sampleRate: get('sampleRate'),
    spyName: get('spyName'),
    units: get('units'),
    aggregationType: get('aggregationType'),
  };
}

/** Content-Length when the client sent one (not with chunked encoding), else null. */
function declaredLength(req: ShieldedRequest): number | null {
  const raw = req.headers['content-length'];
  if (raw === undefined || req.headers['transfer-encoding'] !== undefined) return null;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new IngestHttpError(400, `Content-Length: not a byte count: ${raw}`);
  return n;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Reads and drops what is left of a rejected body so the client, which may still be uploading, reads the answer
 * instead of a connection reset, and the connection stays usable. Past a limit or a timeout the socket is cut.
 */
function drainRest(req: ShieldedRequest): void {
  let seen = 0;
  const cut = (): void => void req.socket.destroy();
  const timer = setTimeout(cut, DRAIN_TIMEOUT_MS);
  timer.unref();
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DRAIN_LIMIT_BYTES) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}
