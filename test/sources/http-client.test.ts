import { afterEach, describe, expect, it } from 'vitest';
import { SourceHttpClient, SourceHttpError, SourceUnavailableError, redactUrl } from '../../src/sources/http-client';
import { httpSettingsSchema } from '../../src/sources/source-settings';
import { LoopbackServer } from './servers/loopback-server';
import { NO_ABORT, RecordingLogger } from './source-test-kit';

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A client whose backoff sleeps are recorded instead of waited, with a fixed jitter draw. */
function client(settings: Record<string, unknown>, random = 0.5) {
  const sleeps: number[] = [];
  const http = new SourceHttpClient(
    'test',
    httpSettingsSchema.parse(settings),
    { 'x-default': 'yes' },
    {
      logger: new RecordingLogger(),
      random: () => random,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  );
  return { http, sleeps };
}

const ok = (_request: unknown, response: import('node:http').ServerResponse) =>
  void response.writeHead(200, { 'content-type': 'text/plain' }).end('fine');

describe('SourceHttpClient', () => {
  it('backs off exponentially with equal jitter, capped at backoffMaxMs', async () => {
    server = await LoopbackServer.start(ok);
    server.failNext(
      ...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 502, body: 'bad gateway' })),
    );
    const { http, sleeps } = client({ maxAttempts: 5, backoffBaseMs: 100, backoffMaxMs: 300 }, 0.5);

    const result = await http.call({ method: 'GET', url: server.url }, NO_ABORT);

    expect(result).toMatchObject({ status: 200, attempts: 5 });
    expect(new TextDecoder().decode(result.bytes)).toBe('fine');
    // exponential 100, 200, 400→300, 300; half fixed plus half × 0.5.
    expect(sleeps).toEqual([75, 150, 225, 225]);
  });

  it('waits at least what a 429 Retry-After asks, within backoffMaxMs', async () => {
    server = await LoopbackServer.start(ok);
    server.failNext({ kind: 'status', status: 429, body: 'slow down', headers: { 'retry-after': '2' } });
    const { http, sleeps } = client({ maxAttempts: 2, backoffBaseMs: 100, backoffMaxMs: 5000 });

    await http.call({ method: 'GET', url: server.url }, NO_ABORT);

    expect(sleeps).toEqual([2000]);
  });

  it('retries a dropped connection and reports the last reason when every attempt fails', async () => {
    server = await LoopbackServer.start(ok);
    server.failNext({ kind: 'reset' }, { kind: 'reset' });
    const { http, sleeps } = client({ maxAttempts: 2, backoffBaseMs: 10 });

    const failure = await http
      .call({ method: 'POST', url: `${server.url}/x`, body: 'b' }, NO_ABORT)
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SourceUnavailableError);
    expect((failure as Error).message).toMatch(
      new RegExp(`^test: POST ${server.url}/x failed after 2 attempt\\(s\\): connection error: `),
    );
    expect(sleeps).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry a 404 and keeps the start of a long body in the error', async () => {
    server = await LoopbackServer.start((_request, response) => void response.writeHead(404).end('x'.repeat(5000)));
    const { http } = client({ maxAttempts: 4 });

    const failure = (await http
      .call({ method: 'GET', url: server.url }, NO_ABORT)
      .catch((error: unknown) => error)) as SourceHttpError;

    expect(failure).toBeInstanceOf(SourceHttpError);
    expect(failure.status).toBe(404);
    expect(failure.bodySnippet).toBe(`${'x'.repeat(1000)}… (5000 bytes in total)`);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses an answer larger than maxResponseBytes without retrying', async () => {
    server = await LoopbackServer.start((_request, response) => void response.writeHead(200).end(Buffer.alloc(4096)));
    const { http } = client({ maxAttempts: 3, maxResponseBytes: 2048 });

    await expect(http.call({ method: 'GET', url: server.url }, NO_ABORT)).rejects.toThrow(
      'response larger than the 2048-byte limit',
    );
    expect(server.requests).toHaveLength(1);
  });

  it('sends the default headers, a call header winning over a default one', async () => {
    server = await LoopbackServer.start(ok);
    const { http } = client({});

    await http.call({ method: 'GET', url: server.url, headers: { accept: 'application/json' } }, NO_ABORT);

    expect(server.requests[0]!.headers).toMatchObject({ 'x-default': 'yes', accept: 'application/json' });
  });

  it('never shows credentials embedded in a URL', () => {
    expect(redactUrl('https://user:secret@pyroscope.example/api')).toBe('https://pyroscope.example/api');
  });
});
