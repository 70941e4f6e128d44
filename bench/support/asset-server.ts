import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize } from 'node:path';
import helmet from 'helmet';
import { chromium, type Browser } from 'playwright-core';

/** The repository: two folders up from the source, three from dist/bench/support when compiled by `npm run bench`. */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const REPO = repoRoot();
export const ASSETS_DIR = join(REPO, 'reports/assets');
const VENDOR: Record<string, string> = {
  'uplot.js': join(REPO, 'node_modules/uplot/dist/uPlot.iife.min.js'),
  'uplot.css': join(REPO, 'node_modules/uplot/dist/uPlot.min.css'),
};
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A loopback HTTP server for browser tests and benches of the dashboard's client code. */
export interface AssetServer {
  readonly url: string;
  /** Serves `body` at `path` (e.g. a test page or a flame graph's JSON). */
  put(path: string, body: string | Uint8Array, contentType?: string): void;
  /** Bytes served at each path so far (what the network transferred, uncompressed). */
  readonly sent: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Serves `reports/assets/*` at `/assets/`, uPlot at `/assets/vendor/uplot.{js,css}` (as the app will) and whatever
 * `put` adds, every answer with helmet's default headers, so the app's Content-Security-Policy (scripts from 'self'
 * only, no inline script) applies to the page under test.
 */
export async function startAssetServer(): Promise<AssetServer> {
  const pages = new Map<string, { body: Buffer; type: string }>();
  const sent = new Map<string, number>();
  const secure = helmet();
  const send = (res: ServerResponse, status: number, body: Buffer, type: string) => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-store' });
    res.end(body);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const page = pages.get(path);
    let body: Buffer | null = null;
    let type = 'application/octet-stream';
    if (page) [body, type] = [page.body, page.type];
    else if (path.startsWith('/assets/vendor/') && VENDOR[path.slice('/assets/vendor/'.length)]) {
      const file = VENDOR[path.slice('/assets/vendor/'.length)]!;
      [body, type] = [readFileSync(file), TYPES[extname(file)]!];
    } else if (path.startsWith('/assets/')) {
      const file = normalize(join(ASSETS_DIR, path.slice('/assets/'.length)));
      if (file.startsWith(ASSETS_DIR + '/') && existsSync(file))
        [body, type] = [readFileSync(file), TYPES[extname(file)] ?? type];
    }
    if (!body) return send(res, 404, Buffer.from('not found'), 'text/plain');
    sent.set(path, (sent.get(path) ?? 0) + body.length);
    send(res, 200, body, type);
  };
  const server = createServer((req, res) => {
    secure(req, res, (err?: unknown) => {
      if (err) return send(res, 500, Buffer.from(String(err)), 'text/plain');
      handle(req, res);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    put(path, body, contentType) {
      const type = contentType ?? TYPES[extname(path)] ?? 'text/html; charset=utf-8';
      pages.set(path, { body: Buffer.from(body), type });
    },
    close: () => new Promise<void>((ok, ko) => server.close((e) => (e ? ko(e) : ok()))),
  };
}

/** JSON for a `<script type="application/json">` island: `<` escaped so no `</script>` can end it early. */
export function jsonIsland(id: string, value: unknown): string {
  return `<script type="application/json" id="${id}">${JSON.stringify(value).replace(/</g, '\\u003c')}</script>`;
}

/** Debian's Chromium, headless, as the README's browser tests run it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
