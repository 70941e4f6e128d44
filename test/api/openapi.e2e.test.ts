import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPI } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiApp, type ApiTestApp } from './support';

let app: ApiTestApp;

beforeAll(async () => {
  app = await startApiApp();
});
afterAll(() => app?.close());

interface Operation {
  readonly responses: Record<string, { content?: Record<string, { example?: unknown }> }>;
  readonly security?: unknown[];
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every route the Express app answers: "METHOD /path/{param}". */
function servedRoutes(): string[] {
  const express = app.app.getHttpAdapter().getInstance() as { router: { stack: Layer[] } };
  const out: string[] = [];
  for (const layer of express.router.stack) {
    if (!layer.route) continue;
    for (const [method, on] of Object.entries(layer.route.methods))
      if (on && method !== '_all') out.push(`${method.toUpperCase()} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return out;
}

describe('OpenAPI document', () => {
  it('is served at /api/docs/openapi.json, validates, and lists every route the app serves', async () => {
    const r = await app.get('/api/docs/openapi.json', null);
    expect(r.status).toBe(200);
    const document = r.body as OpenAPI.Document;
    await SwaggerParser.validate(structuredClone(document));
    const paths = document.paths as Record<string, Record<string, Operation>>;
    const documented = Object.entries(paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    // Middleware bound to every path (request ids, metrics) shows as wildcard routes: not endpoints.
    // The dashboard's pages and assets are HTML for people, not API endpoints (src/dashboard, excluded from the document).
    const dashboard = /^(GET|POST) \/(\{|teams|services|functions|regressions|flamegraphs|assets|login|logout|$)/;
    const served = servedRoutes().filter(
      (route) => !route.includes('/api/docs') && !route.includes('*') && !dashboard.test(route),
    );
    expect(served.length).toBeGreaterThan(15);
    expect(new Set(documented)).toEqual(new Set(served));
    // Every finance route has an example answer and declares the bearer key.
    for (const [path, ops] of Object.entries(paths)) {
      if (!path.startsWith('/api/v1/')) continue;
      for (const [method, op] of Object.entries(ops)) {
        const ok = op.responses['200']?.content;
        expect({ path, method, example: Object.values(ok ?? {}).some((c) => c.example !== undefined) }).toEqual({
          path,
          method,
          example: true,
        });
        expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
      }
    }
  });

  it('the service address is the dashboard, which links to the documentation', async () => {
    const home = await fetch(`${app.baseUrl}/`, { redirect: 'manual' });
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await home.text()).toContain('<a href="/api/docs">API</a>');
  });

  it('serves the UI at /api/docs under the security headers', async () => {
    const page = await app.get('/api/docs', null);
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts)
      expect((await app.get(new URL(src, `${app.baseUrl}/api/docs/`).pathname, null)).status).toBe(200);
    expect(page.text).not.toMatch(/<script>(?!\s*<\/script>)/);
  });
});
