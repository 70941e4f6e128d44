import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { ApiKeyService } from '../../src/api/auth/api-key.service';
import type { SettingsOverrides } from '../../src/config/settings.loader';
import { AttributionService } from '../../src/cost/attribution.service';
import { startTestApp, type TestApp } from '../support/app';
import { CATALOG_DIR, demoProfiles, HOUR, LABEL_KEYS, storeProfile, type DemoProfile } from '../cost/support';

export const DAY = 86_400_000;

/** The settings of the API tests: the example catalog (copied), the demo's label keys, the cost tests' prices. */
export function apiSettings(catalogDir: string, extra: SettingsOverrides = {}): SettingsOverrides {
  return {
    schedules: { enabled: false, demo: false },
    paths: { catalogDir },
    labels: { keys: LABEL_KEYS },
    prices: [
      { costPerCoreHour: '0.0316', effectiveFrom: '2026-01-01' },
      { costPerCoreHour: '0.05', effectiveFrom: '2026-01-01', scope: { service: 'checkout' } },
    ],
    // Tests send hundreds of requests with one key; the rate limit test sets its own.
    api: { rateLimit: { requestsPerMinute: 1_000_000, burst: 1_000_000 } },
    ...extra,
  };
}

export interface ApiTestApp extends TestApp {
  readonly catalogDir: string;
  /** A new key with these scopes (as `flamebill apikey create` makes it). */
  key(...scopes: string[]): Promise<string>;
  /** GET with a key; the body parsed as JSON when it is JSON (loosely typed: tests check its shape). */
  get(pathAndQuery: string, key: string | null, headers?: Record<string, string>): Promise<LooseAnswer>;
}

/** An answer as the tests read it: its body parsed as JSON, loosely typed (tests check its shape). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LooseAnswer = { status: number; headers: Headers; text: string; body: any };

/** The real application on this file's database, the example catalog, and a key helper. */
export async function startApiApp(extra: SettingsOverrides = {}): Promise<ApiTestApp> {
  const catalogDir = await mkdtemp(path.join(os.tmpdir(), 'flamebill-api-catalog-'));
  await cp(CATALOG_DIR, catalogDir, { recursive: true });
  const app = await startTestApp({ logLevel: 'warn', settings: apiSettings(catalogDir, extra) });
  let n = 0;
  return {
    ...app,
    catalogDir,
    key: async (...scopes: string[]) =>
      (await app.app.get(ApiKeyService).create(`test-${process.pid}-${Date.now()}-${n++}`, scopes)).key,
    get: async (pathAndQuery, key, headers = {}) => {
      const response = await fetch(`${app.baseUrl}${pathAndQuery}`, {
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      });
      const text = await response.text();
      let body: unknown = null;
      if ((response.headers.get('content-type') ?? '').startsWith('application/json')) body = JSON.parse(text);
      return { status: response.status, headers: response.headers, text, body };
    },
    close: async () => {
      await app.close();
      await rm(catalogDir, { recursive: true, force: true });
    },
  };
}

/**
 * The real demo profiles attributed as the leaderboard tests do: the six windows of 2026-11-21 06:00-12:00, and the
 * first three again one day earlier. Returns the window starts. `raw`: keep the profiles' bytes (the trees need them).
 */
export async function attributeDemo(app: TestApp, options: { raw?: boolean } = {}): Promise<number[]> {
  const db = app.app.get(DataSource);
  await db.query(
    `TRUNCATE profiles, dirty_windows, cost_windows, cost_service_windows, cost_team_windows, cost_label_windows, cost_function_splits, cost_function_day_blocks, cost_function_day_tops, cost_function_day_states, cost_service_days, cost_team_days, cost_label_days, cost_provenance_days`,
  );
  const demo = demoProfiles();
  const placed: Array<{ p: DemoProfile; start: Date }> = [
    ...demo.map((p) => ({ p, start: p.start })),
    ...demo.filter((p) => p.start.getUTCHours() < 9).map((p) => ({ p, start: new Date(p.start.getTime() - DAY) })),
  ];
  for (const { p, start } of placed) await storeProfile(db, p, { start, raw: options.raw });
  const attribution = app.app.get(AttributionService);
  const starts = [...new Set(placed.map((x) => x.start.getTime()))].sort();
  for (const start of starts)
    await db.transaction((tx) =>
      attribution.attributeWindow({ start: new Date(start), end: new Date(start + HOUR) }, tx),
    );
  return starts;
}
