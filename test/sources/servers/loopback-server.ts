import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the server received it, kept for assertions. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** `performance.now()` when the request arrived. */
  readonly at: number;
}

/** A canned misbehaviour for the next request, applied before the protocol handler sees it. */
export type Fault =
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly body: string;
      readonly headers?: Record<string, string>;
    }
  /** Accept the request and never answer (a hung upstream). */
  | { readonly kind: 'hang' }
  /** Drop the connection without an answer. */
  | { readonly kind: 'reset' };

export type ProtocolHandler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

/**
 * An HTTP/1.1 server on 127.0.0.1 with an ephemeral port that records every request and can be told
 * to misbehave for the next requests. Protocol servers (Pyroscope, Parca, Go pprof) are handlers on it.
 */
export class LoopbackServer {
  readonly requests: RecordedRequest[] = [];
  private readonly faults: Fault[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(handler: ProtocolHandler): Promise<LoopbackServer> {
    // Assigned once the server listens (its URL needs the port); requests cannot arrive before that.
    // eslint-disable-next-line prefer-const
    let instance: LoopbackServer | undefined;
    const server = createServer((incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
        const request: RecordedRequest = {
          method: incoming.method ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers: incoming.headers,
          body: Buffer.concat(chunks),
          at: performance.now(),
        };
        instance!.requests.push(request);
        const fault = instance!.faults.shift();
        if (fault !== undefined) return applyFault(fault, response);
        Promise.resolve(handler(request, response)).catch((error: unknown) => {
          response
            .writeHead(599, { 'content-type': 'text/plain' })
            .end(`test server handler crashed: ${String(error)}`);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    instance = new LoopbackServer(server, `http://127.0.0.1:${port}`);
    return instance;
  }

  /** The next requests get these faults, one each, in order. */
  failNext(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Closes the server and every connection, hung ones included. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function applyFault(fault: Fault, response: ServerResponse): void {
  if (fault.kind === 'hang') return;
  if (fault.kind === 'reset') {
    response.socket?.destroy();
    return;
  }
  response.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers }).end(fault.body);
}

/** Exact-match label selectors `{a="x", b="y"}` as the test servers understand them; null if malformed. */
export function parseSelector(selector: string): Record<string, string> | null {
  const inner = /^\{(.*)\}$/s.exec(selector.trim())?.[1];
  if (inner === undefined) return null;
  const matchers: Record<string, string> = {};
  const matcher = /([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*("(?:[^"\\]|\\.)*")/g;
  const rest = inner.replace(matcher, (_all, key: string, quoted: string) => {
    matchers[key] = JSON.parse(quoted) as string;
    return '';
  });
  return /^[\s,]*$/.test(rest) ? matchers : null;
}

/** True when every matcher is satisfied by the labels. */
export function matches(labels: Readonly<Record<string, string>>, matchers: Readonly<Record<string, string>>): boolean {
  return Object.entries(matchers).every(([key, value]) => labels[key] === value);
}
