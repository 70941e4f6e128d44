import http from 'node:http';

export interface PostResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

export interface PostOptions {
  readonly headers?: Record<string, string>;
  /** Send the body with chunked transfer encoding (no Content-Length), in pieces of this many bytes. */
  readonly chunked?: number;
  readonly agent?: http.Agent;
}

/**
 * POSTs raw bytes with node:http (not fetch), so a test controls Content-Length, chunking and Content-Type exactly
 * as agents send them, and still reads an early answer (413, 429) sent while the body is being uploaded.
 */
export function post(url: string, body: Uint8Array, options: PostOptions = {}): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (!options.chunked) headers['Content-Length'] = body.length;
    const req = http.request(url, { method: 'POST', headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        });
      });
      res.on('error', reject);
    });
    // The server may answer early and drop the rest; a write error after the answer is not the test's concern.
    req.on('error', reject);
    if (options.chunked) {
      for (let i = 0; i < body.length; i += options.chunked) req.write(body.subarray(i, i + options.chunked));
      req.end();
    } else req.end(body);
  });
}
