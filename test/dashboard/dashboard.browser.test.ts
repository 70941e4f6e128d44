import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../../bench/support/asset-server';
import { parseCsv } from '../../src/domain/export/csv';
import { JobsService } from '../../src/jobs/jobs.service';
import { ProfileStoreService } from '../../src/profiles/profile-store.service';
import { storePulled } from '../../src/pull/pull.handler';
import type { ApiTestApp } from '../api/support';
import { testDataSource, truncateTables } from '../support/database';
import { API_PERIOD, findings, PERIOD, startDashboardApp } from './support';

const XSS_PROFILE = readFileSync(path.join(__dirname, '..', 'fixtures', 'dashboard', 'xss.pb.gz'));
const HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>'];

/**
 * The dashboard in Debian's Chromium (playwright-core, headless) against the real application on PostgreSQL with the
 * real demo profiles attributed, their trees built and the regression scan run; plus two services named like markup
 * injections whose real profile has functions named the same.
 */
describe.skipIf(!existsSync(CHROMIUM))(
  `dashboard in Chromium${existsSync(CHROMIUM) ? '' : ` (skipped: no ${CHROMIUM})`}`,
  () => {
    let app: ApiTestApp;
    let browser: Browser;
    let context: BrowserContext;
    let key: string;

    beforeAll(async () => {
      await truncateTables(await testDataSource());
      app = await startDashboardApp();
      key = await app.key('read');
      const jobs = app.app.get(JobsService);
      const hour = { from: new Date('2026-11-21T10:00:00Z'), to: new Date('2026-11-21T11:00:00Z') };
      // The push API refuses such names (Pyroscope's rules) and a folder name cannot hold "/"; a pulled series label
      // can: stored as the pull job stores what a source fetched.
      for (const name of HOSTILE)
        await storePulled(
          app.app.get(ProfileStoreService),
          'pyroscope',
          name,
          { start: hour.from, end: hour.to },
          [
            {
              bytes: XSS_PROFILE,
              profileType: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
              seriesLabels: { service_name: name },
              range: { start: hour.from, end: hour.to },
              origin: `xss.pb.gz as ${name}`,
            },
          ],
          { fold: { labelKeys: ['version'], maxLabelValues: 100, countWallAsCpu: false }, keepRaw: true },
        );
      expect(await jobs.run('attribute', { ...hour, force: true })).toMatchObject({ status: 'succeeded' });
      expect(
        await jobs.run('profile-trees', {
          from: new Date('2026-11-21T00:00:00Z'),
          to: new Date('2026-11-22T00:00:00Z'),
        }),
      ).toMatchObject({ status: 'succeeded' });
      browser = await launchChromium();
      context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    }, 240_000);
    afterAll(async () => {
      await browser?.close();
      await app?.close();
    });

    /** A page that fails the test on any console error, page error or dialog. */
    async function open(url: string): Promise<{ page: Page; problems: string[] }> {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('dialog', (d) => {
        problems.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      const response = await page.goto(`${app.baseUrl}${url}`);
      expect(response?.status(), url).toBe(200);
      return { page, problems };
    }

    it('the overview, a team page and a service page load with no console error; charts and the flame graph draw', async () => {
      for (const url of [`/?${PERIOD}`, `/teams/payments?${PERIOD}`, `/services/checkout?${PERIOD}`]) {
        const { page, problems } = await open(url);
        await page.waitForSelector('[data-chart][data-ready="true"]');
        if (url !== `/?${PERIOD}`) await page.waitForSelector('[data-flamegraph][data-ready="true"]');
        expect(problems, url).toEqual([]);
        await page.close();
      }
    });

    it("the team total is the API's; the period picker changes the numbers", async () => {
      const { page, problems } = await open(`/teams/payments?${PERIOD}`);
      const api = await app.get(`/api/v1/teams/payments?${API_PERIOD}`, key);
      expect(api.status).toBe(200);
      expect(await page.getAttribute('#team-total', 'data-micro')).toBe(api.body.cost.microdollars);
      const twoDays = await page.getAttribute('#team-total', 'data-micro');
      await page.fill('#pick-from', '2026-11-21');
      await page.fill('#pick-to', '2026-11-21');
      await Promise.all([page.waitForURL(/from=2026-11-21&to=2026-11-21/), page.click('text=Show range')]);
      const oneDay = await page.getAttribute('#team-total', 'data-micro');
      const apiOneDay = await app.get(`/api/v1/teams/payments?from=2026-11-21&to=2026-11-22`, key);
      expect(oneDay).toBe(apiOneDay.body.cost.microdollars);
      expect(BigInt(oneDay!)).toBeLessThan(BigInt(twoDays!));
      expect(problems).toEqual([]);
    });

    it('sorting a table by a column reorders its rows by the exact amounts', async () => {
      const { page } = await open(`/teams/payments?${PERIOD}`);
      const amounts = async () =>
        (
          await page.$$eval('#services tbody tr td:nth-of-type(1)', (cells) =>
            cells.map((c) => c.getAttribute('data-sort')),
          )
        ).map((v) => BigInt(v!));
      const before = await amounts();
      expect(before.length).toBeGreaterThan(1);
      // Served largest first; a click sorts ascending, the next descending again.
      expect(await page.getAttribute('#services thead th:nth-of-type(2)', 'aria-sort')).toBe('descending');
      const ascendingOrder = [...before].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect(before).toEqual([...ascendingOrder].reverse());
      await page.click('#services thead button:has-text("Cost")');
      expect(await page.getAttribute('#services thead th:nth-of-type(2)', 'aria-sort')).toBe('ascending');
      expect(await amounts()).toEqual(ascendingOrder);
      await page.click('#services thead button:has-text("Cost")');
      expect(await page.getAttribute('#services thead th:nth-of-type(2)', 'aria-sort')).toBe('descending');
      expect(await amounts()).toEqual([...ascendingOrder].reverse());
    });

    it('the flame graph zooms into the clicked frame and Escape resets it', async () => {
      const { page, problems } = await open(`/services/checkout?${PERIOD}`);
      const graph = page.locator('[data-flamegraph][data-ready="true"]');
      await graph.waitFor();
      const canvas = graph.locator('canvas');
      const box = (await canvas.boundingBox())!;
      // The second row: a child of the root, wide enough to hit at a third of the width.
      await canvas.click({ position: { x: Math.round(box.width / 3), y: 18 + 9 } });
      await expect.poll(() => graph.getAttribute('data-zoom')).not.toBeNull();
      await canvas.press('Escape');
      await expect.poll(() => graph.getAttribute('data-zoom')).toBeNull();
      expect(problems).toEqual([]);
    });

    it("a regression's differential flame graph opens from the team page", async () => {
      const [finding] = await findings(app);
      expect(finding).toBeDefined();
      const owner = (await app.get(`/api/v1/services/${finding!.service}?${API_PERIOD}`, key)).body.owner as string;
      const { page, problems } = await open(`/teams/${owner}?${PERIOD}`);
      await Promise.all([
        page.waitForURL(new RegExp(`/regressions/${finding!.fingerprint}$`)),
        page.click(`#regressions a[href="/regressions/${finding!.fingerprint}"]`),
      ]);
      const graph = page.locator('[data-flamegraph][data-diff][data-ready="true"]');
      await graph.waitFor();
      expect(await page.locator('.flamegraph-legend, [class*="legend"]').count()).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    });

    it('every CSV link of the overview and of a team page downloads a file that parses', async () => {
      for (const url of [`/?${PERIOD}`, `/teams/payments?${PERIOD}`]) {
        const { page } = await open(url);
        const links = await page.$$eval('a.csv', (as) => as.map((a) => a.getAttribute('href')!));
        expect(links.length).toBeGreaterThan(2);
        for (const href of links) {
          const probe = await page.request.get(`${app.baseUrl}${href}`);
          expect(probe.status(), `${href}: ${await probe.text()}`).toBe(200);
          const [download] = await Promise.all([page.waitForEvent('download'), page.click(`a.csv[href="${href}"]`)]);
          const file = await download.path();
          const rows = parseCsv(readFileSync(file, 'utf8'));
          expect(rows.length, href).toBeGreaterThan(0);
          expect(
            rows.every((r) => r.length === rows[0]!.length),
            href,
          ).toBe(true);
        }
        await page.close();
      }
    });

    it('keyboard navigation reaches the skip link, the period picker, the sort buttons and the flame graph', async () => {
      const { page } = await open(`/teams/payments?${PERIOD}`);
      await page.waitForSelector('[data-flamegraph][data-ready="true"]');
      const reached = new Set<string>();
      for (let i = 0; i < 400; i++) {
        await page.keyboard.press('Tab');
        const id = await page.evaluate(() => {
          // The page's DOM (the test compiles without the DOM library): only what this check reads.
          type Focused = {
            id: string;
            tagName: string;
            classList: { contains(name: string): boolean };
            closest(selector: string): unknown;
          };
          const el = (globalThis as unknown as { document: { activeElement: Focused | null } }).document.activeElement;
          if (!el) return '';
          if (el.tagName === 'CANVAS' && el.closest('[data-flamegraph]')) return 'flamegraph';
          if (el.tagName === 'INPUT' && el.closest('[data-flamegraph]')) return 'flamegraph-search';
          if (el.id) return `#${el.id}`;
          if (el.classList.contains('skip')) return 'skip';
          if (el.classList.contains('sort')) return 'sort';
          return el.tagName.toLowerCase();
        });
        reached.add(id);
        if (reached.has('flamegraph') && reached.has('flamegraph-search')) break;
      }
      for (const control of [
        'skip',
        '#pick-week',
        '#pick-month',
        '#pick-from',
        'sort',
        'flamegraph-search',
        'flamegraph',
      ])
        expect([...reached], control).toContain(control);
    });

    it('service and function names from profiles are text, never markup: no dialog, no injected element', async () => {
      const pages = [
        ...HOSTILE.map((name) => `/services/${encodeURIComponent(name)}?${PERIOD}`),
        ...HOSTILE.map((name) => `/functions/${encodeURIComponent(name)}?${PERIOD}`),
      ];
      for (const url of pages) {
        const { page, problems } = await open(url);
        await page.waitForLoadState('networkidle');
        const text = await page.textContent('main');
        for (const name of HOSTILE) expect(text, url).toContain(name);
        expect(await page.locator('img[src="x"]').count(), url).toBe(0);
        const scripts = await page.$$eval('script:not([type="application/json"])', (s) => s.map((e) => e.textContent));
        expect(
          scripts.filter((s) => s?.includes('alert')),
          url,
        ).toEqual([]);
        expect(problems, url).toEqual([]);
        await page.close();
      }
    });
  },
);
