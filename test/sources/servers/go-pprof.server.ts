import type { ServerResponse } from 'node:http';
import { LoopbackServer, type RecordedRequest } from './loopback-server';

/**
 * A Go program's `net/http/pprof` CPU endpoint on loopback, answering as `pprof.Profile` in
 * src/net/http/pprof/pprof.go does: `seconds` parsed as an integer (missing, invalid or ≤ 0 means 30),
 * the capture lasts that long, then the gzipped profile with `Content-Type: application/octet-stream`,
 * `Content-Disposition: attachment; filename="profile"` and `X-Content-Type-Options: nosniff`.
 * Other `/debug/pprof/` names it does not serve get 404 `Unknown profile`; other paths the Go mux 404.
 *
 * The process has one CPU profiler (runtime/pprof `StartCPUProfile` returns "cpu profiling already in use" while one
 * runs): a capture asked for while another runs, or while `otherProfiler` holds it (pyroscope-go, an Alloy scrape),
 * gets 500 `Could not enable CPU profiling: cpu profiling already in use` as a `serveError` (text/plain, X-Go-Pprof: 1,
 * no Content-Disposition), as net/http/pprof `Profile` answers (src/net/http/pprof/pprof.go, Go 1.19).
 */
export interface GoPprofServerOptions {
  /** The gzipped CPU profile to answer with (a real Go profile). */
  readonly profile: Uint8Array;
  /** Real milliseconds per profile second, so tests can run captures faster than real time. */
  readonly msPerSecond?: number;
}

/** The fake's CPU profiler, shared by its captures; tests flip `otherProfiler` to play an agent profiling the process. */
export interface GoCpuProfiler {
  otherProfiler: boolean;
  capturing: boolean;
  /** Captures answered 500 because the profiler was in use. */
  refused: number;
}

export async function startGoPprofServer(
  options: GoPprofServerOptions,
  profiler: GoCpuProfiler = { otherProfiler: false, capturing: false, refused: 0 },
): Promise<LoopbackServer> {
  return LoopbackServer.start((request, response) => handle(options, profiler, request, response));
}

async function handle(
  options: GoPprofServerOptions,
  profiler: GoCpuProfiler,
  request: RecordedRequest,
  response: ServerResponse,
): Promise<void> {
  if (request.path !== '/debug/pprof/profile') {
    const known = request.path.startsWith('/debug/pprof/');
    response
      .writeHead(404, {
        'content-type': 'text/plain; charset=utf-8',
        'x-content-type-options': 'nosniff',
        ...(known ? { 'x-go-pprof': '1' } : {}),
      })
      .end(known ? 'Unknown profile\n' : '404 page not found\n');
    return;
  }
  const parsed = Number.parseInt(request.query.get('seconds') ?? '', 10);
  const seconds =
    Number.isFinite(parsed) && parsed > 0 && /^\d+$/.test(request.query.get('seconds') ?? '') ? parsed : 30;
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('content-type', 'application/octet-stream');
  response.setHeader('content-disposition', 'attachment; filename="profile"');
  if (profiler.otherProfiler || profiler.capturing) {
    profiler.refused++;
    response.setHeader('content-type', 'text/plain; charset=utf-8');
    response.setHeader('x-go-pprof', '1');
    response.removeHeader('content-disposition');
    response.writeHead(500).end('Could not enable CPU profiling: cpu profiling already in use\n');
    return;
  }
  profiler.capturing = true;
  try {
    await new Promise((resolve) => setTimeout(resolve, seconds * (options.msPerSecond ?? 1000)));
  } finally {
    profiler.capturing = false;
  }
  if (!response.destroyed) response.writeHead(200).end(Buffer.from(options.profile));
}
