import http from 'node:http';

/** One kind of body the load generator pushes, cycled through in order. */
export interface LoadBody {
  readonly label: string;
  readonly body: Buffer;
  /** Query string (without `?`) for request number `seq`; vary a label or `from` so every push has its own digest. */
  readonly query: (seq: number) => string;
  readonly contentType?: string;
}

export interface LoadOptions {
  /** e.g. http://127.0.0.1:3000 */
  readonly baseUrl: string;
  readonly bodies: readonly LoadBody[];
  /** Requests in flight at once (one keep-alive connection each). */
  readonly concurrency: number;
  /** Stop starting requests after this long. */
  readonly durationMs: number;
  /** Stop after this many requests (whichever comes first). */
  readonly maxRequests: number;
  /**
   * Requests started per second at most (open loop below the closed loop's own rate): request n starts no earlier than
   * n / rate seconds after the start. A fleet's rate instead of as fast as the server answers. Unset: no pacing.
   */
  readonly ratePerSecond?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What happened to one request. */
export interface LoadResult {
  readonly seq: number;
  readonly status: number;
  readonly bytes: number;
  readonly ms: number;
  /** The JSON answer (flamebill's `{status, id, cpuNanoseconds}` on 200, `{code, message}` otherwise). */
  readonly answer: Record<string, unknown>;
}

export interface LoadReport {
  readonly results: readonly LoadResult[];
  readonly elapsedMs: number;
  readonly statuses: Readonly<Record<string, number>>;
  /** Requests answered 200. */
  readonly ok: number;
  /** Body bytes of requests answered 200. */
  readonly okBytes: number;
  /** okBytes per second of the whole run, in MB (10^6 bytes). */
  readonly mbPerSecond: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Connection-level failures (no HTTP answer). */
  readonly errors: number;
}

/**
 * A closed-loop load generator on node:http: `concurrency` workers, each with its own keep-alive connection, send
 * the next request as soon as the previous answer is complete (or, with `ratePerSecond`, when it is due), until the
 * duration or the request budget is spent.
 * Bounded in both, so a stuck server cannot make it run forever. Latency is measured per request from the first
 * byte written to the last byte of the answer.
 */
export async function runIngestLoad(options: LoadOptions): Promise<LoadReport> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const results: LoadResult[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && next < options.maxRequests) {
      const seq = next++;
      if (options.ratePerSecond) {
        const due = started + (seq * 1000) / options.ratePerSecond;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (performance.now() >= deadline) break;
      }
      const spec = options.bodies[seq % options.bodies.length]!;
      try {
        results.push(await send(agent, options, spec, seq));
      } catch {
        errors++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return summarize(results, performance.now() - started, errors);
}

function send(agent: http.Agent, options: LoadOptions, spec: LoadBody, seq: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const headers: Record<string, string | number> = { ...options.headers, 'Content-Length': spec.body.length };
    if (spec.contentType) headers['Content-Type'] = spec.contentType;
    const req = http.request(
      `${options.baseUrl}/ingest?${spec.query(seq)}`,
      { method: 'POST', agent, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let answer: Record<string, unknown> = {};
          try {
            answer = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            answer = { raw: text };
          }
          resolve({ seq, status: res.statusCode ?? 0, bytes: spec.body.length, ms: performance.now() - t0, answer });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(spec.body);
  });
}

function summarize(results: readonly LoadResult[], elapsedMs: number, errors: number): LoadReport {
  const statuses: Record<string, number> = {};
  let ok = 0;
  let okBytes = 0;
  for (const r of results) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.status === 200) {
      ok++;
      okBytes += r.bytes;
    }
  }
  const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies.length === 0
      ? 0
      : latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]!;
  return {
    results,
    elapsedMs,
    statuses,
    ok,
    okBytes,
    mbPerSecond: okBytes / 1e6 / (elapsedMs / 1000),
    requestsPerSecond: results.length / (elapsedMs / 1000),
    p50Ms: pct(50),
    p99Ms: pct(99),
    maxMs: latencies.at(-1) ?? 0,
    errors,
  };
}

/** One line of figures. */
export function formatLoadReport(report: LoadReport): string {
  return [
    `${report.results.length} requests in ${(report.elapsedMs / 1000).toFixed(1)} s (${report.requestsPerSecond.toFixed(0)}/s)`,
    `statuses ${JSON.stringify(report.statuses)}${report.errors ? `, ${report.errors} connection errors` : ''}`,
    `sustained ${report.mbPerSecond.toFixed(1)} MB/s of accepted bodies`,
    `latency p50 ${report.p50Ms.toFixed(1)} ms, p99 ${report.p99Ms.toFixed(1)} ms, max ${report.maxMs.toFixed(1)} ms`,
  ].join('; ');
}
