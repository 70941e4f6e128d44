import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that passed through the proxy, with flamebill's answer. */
export interface RecordedPush {
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly status: number;
  readonly response: string;
}

export interface RecordingProxy {
  /** Point the agent's serverAddress here. */
  readonly url: string;
  readonly pushes: RecordedPush[];
  close(): Promise<void>;
}

/**
 * A tee on loopback between an agent and flamebill: forwards every request unchanged and records the exact bytes the
 * agent sent and what flamebill answered, so a test can recompute the expected totals from what really went over
 * the wire, independently of flamebill's decoder.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const pushes: RecordedPush[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const upstream = http.request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: req.headers },
        (up) => {
          const answer: Buffer[] = [];
          up.on('data', (c: Buffer) => answer.push(c));
          up.on('end', () => {
            const response = Buffer.concat(answer);
            pushes.push({
              url: req.url ?? '',
              headers: req.headers,
              body,
              status: up.statusCode ?? 0,
              response: response.toString('utf8'),
            });
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(response);
          });
        },
      );
      upstream.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pushes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
