import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback proxy in front of the real Redmine that can play an outage (503 with Retry-After, as Redmine behind a
 * reverse proxy answers while it restarts) or hold the answer of issue creations after Redmine created them (the
 * moment a killed delivery dies in). Everything else is forwarded as is.
 */
export class RedmineProxy {
  /** `lose-create`: the next issue creation reaches Redmine, and its answer is replaced by a 502 (a gateway timeout). */
  mode: 'pass' | 'down' | 'hold-create' | 'lose-create' = 'pass';
  /** Requests seen, as `METHOD path`. */
  readonly seen: string[] = [];
  /** Resolves when a held creation was answered by Redmine (the issue exists, the client has no answer). */
  heldCreate: Promise<void>;
  /** Resolves `heldCreate`; a test that holds a second creation sets both anew. */
  releaseHeld!: () => void;
  private server: http.Server;
  url = '';

  constructor(private readonly upstream: string) {
    this.heldCreate = new Promise((resolve) => (this.releaseHeld = resolve));
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.seen.push(`${req.method} ${req.url}`);
    if (this.mode === 'down') {
      res.writeHead(503, { 'Retry-After': '1', 'Content-Type': 'text/html' }).end('<h1>503 Service Unavailable</h1>');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
    const answer = await fetch(`${this.upstream}${req.url}`, {
      method: req.method,
      headers,
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    });
    const body = Buffer.from(await answer.arrayBuffer());
    if (this.mode === 'lose-create' && req.method === 'POST' && req.url === '/issues.json') {
      this.mode = 'pass';
      res.writeHead(502, { 'Content-Type': 'text/html' }).end('<h1>502 Bad Gateway</h1>');
      return;
    }
    if (this.mode === 'hold-create' && req.method === 'POST' && req.url === '/issues.json') {
      this.releaseHeld();
      return; // never answered: the client is killed while it waits
    }
    res
      .writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' })
      .end(body);
  }
}
