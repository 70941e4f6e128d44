import pino from 'pino';
import type { Page } from 'playwright-core';
import { loadSettings } from '../src/config/settings.loader';
import { createRootLogger } from '../src/logging/root-logger';
import { startServer } from '../src/server/bootstrap';
import { launchChromium } from './support/asset-server';
import { migratedBenchDatabase } from './support/bench-database';
import { loadAverage } from './support/measure';
import { END, fill } from './queries.bench';

const RUNS = 7;
const DAY = 86_400_000;

/**
 * Dashboard pages on the query bench's database (`npm run bench -- dashboard`: a year of 1,000 services, 100 teams;
 * see queries.bench.ts), opened in Debian's Chromium: time to the HTML (the server: every query of the page) and to
 * interactive (charts drawn, sort buttons in place), median and worst of RUNS cold-ish loads of different teams, for
 * the last full week and for a month. The facts hold no profile trees, so the flame graph's request answers 404 at
 * once; the 50k-node flame graph is timed on its own by `npm run bench -- flamegraph`. No reference exists to compare
 * with (no other tool serves these pages), so the figures are absolute, beside the 1 s target.
 */
export async function run(): Promise<void> {
  const out = process.stdout;
  out.write(`load ${loadAverage()}\n`);
  const { db, url, close } = await migratedBenchDatabase();
  const silent = createRootLogger('warn', { write: () => undefined } as unknown as pino.DestinationStream);
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  const browser = await launchChromium();
  try {
    await fill(db, 14);
    const settings = loadSettings({
      env: {},
      cwd: process.cwd(),
      configFile: null,
      overrides: {
        server: { port: 0, host: '127.0.0.1' },
        database: { url },
        schedules: { enabled: false, demo: false },
        labels: { keys: ['version'] },
      },
    });
    server = await startServer({ settings, databaseUrl: url, logger: silent, migrateOnStart: false });
    const week = `from=${day(END - 7 * DAY)}&to=${day(END - DAY)}`;
    const month = 'month=2026-10';
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const base = server.url;
    const cases: Array<[string, (i: number) => string]> = [
      ['overview, last full week', () => `/?${week}`],
      ['team page, last full week', (i) => `/teams/team-${String((i * 13) % 100).padStart(3, '0')}?${week}`],
      ['team page, October', (i) => `/teams/team-${String((i * 13 + 50) % 100).padStart(3, '0')}?${month}`],
      ['service page, last full week', (i) => `/services/svc-${String((i * 131) % 990).padStart(4, '0')}?${week}`],
    ];
    out.write(
      `page                            html p50   html max   interactive p50   interactive max   (ms, ${RUNS} runs)\n`,
    );
    for (const [name, path] of cases) {
      const html: number[] = [];
      const interactive: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = await timePage(page, `${base}${path(i)}`);
        html.push(t.html);
        interactive.push(t.interactive);
      }
      out.write(
        `${name.padEnd(30)} ${fmt(median(html))} ${fmt(Math.max(...html))} ${fmt(median(interactive), 17)} ${fmt(Math.max(...interactive), 17)}\n`,
      );
    }
  } finally {
    await browser.close();
    await server?.app.close();
    await close();
  }
  out.write(`load average after: ${loadAverage()}\n`);
}

/** Navigation start to the HTML's last byte, and to charts drawn with the sort buttons installed. */
async function timePage(page: Page, url: string): Promise<{ html: number; interactive: number }> {
  const response = await page.goto(url);
  if (response?.status() !== 200) throw new Error(`${url}: ${response?.status()}`);
  await page.waitForFunction(
    `document.querySelector('button.sort') !== null && document.querySelectorAll('[data-chart]:not([data-ready="true"])').length === 0`,
  );
  return page.evaluate(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { html: nav.responseEnd, interactive: performance.now() };
  })()`) as Promise<{ html: number; interactive: number }>;
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function fmt(ms: number, width = 10): string {
  return ms.toFixed(0).padStart(width);
}
