import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM,
  jsonIsland,
  launchChromium,
  startAssetServer,
  type AssetServer,
} from '../../bench/support/asset-server';
import {
  buildTree,
  FLAME_CHANGE,
  flameGraphDiffJson,
  flameGraphJson,
  mergeTrees,
  TreeBuilder,
  type FlameGraphJson,
} from '../../src/domain/profile/tree';

const FIXTURES = join(__dirname, '../fixtures/trees');
const cpuTree = (name: string) =>
  buildTree(new Uint8Array(readFileSync(join(FIXTURES, name))), { choose: () => ({ sampleType: 'cpu' }) })!;

/** Real trees: the five Go fixtures merged (the flame graph) and two Node profiles (the diff). */
const goTree = mergeTrees(
  ['cpu.pprof', 'devirt.pprof', 'inline_hot.pprof', 'normal-cpu.stripped.pprof', 'cpu-exemplars.pb.gz'].map(cpuTree),
);
const flame = flameGraphJson(goTree, 5_000);
const diffJson = flameGraphDiffJson(
  cpuTree('node-a.pb.gz'),
  mergeTrees([cpuTree('node-b.pb.gz'), cpuTree('inline_hot.pprof')]),
  5_000,
);
/** The widest frame of a change in the diff (any change: -1). */
function widestOf(change: number, except: ReadonlySet<string> = new Set()): number {
  let best = -1;
  const width = (i: number) => diffJson.base.share[i]! + diffJson.current.share[i]!;
  for (let i = 1; i < diffJson.parent.length; i++)
    if ((change < 0 || diffJson.change[i] === change) && !except.has(diffJson.names[diffJson.name[i]!]!))
      if (best < 0 || width(i) > width(best)) best = i;
  return best;
}
/** The "regressed function" the page asks to outline (as the dashboard does): the widest frame of a function other
 * than those of the widest new and gone frames, whose colours the test reads. */
const outlined = widestOf(
  -1,
  new Set([FLAME_CHANGE.new, FLAME_CHANGE.gone].map((c) => diffJson.names[diffJson.name[widestOf(c)]!]!)),
);
const diff = {
  ...diffJson,
  subject: 'fib in checkout',
  focus: diffJson.names[diffJson.name[outlined]!]!,
  baseLabel: 'v1',
  currentLabel: 'v2',
};
const trend = {
  kind: 'stacked-area',
  currency: 'USD',
  labels: ['2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06'],
  series: [
    { name: 'checkout', values: [1200.5, 1250, 1190.25, 1400, 1380] },
    { name: 'search', values: [800, 810, 790, 850, 900.75] },
  ],
};
const sparkline = { kind: 'sparkline', currency: 'EUR', labels: trend.labels, series: [trend.series[0]] };

/** Function names that would run script if a page put them into HTML unescaped. */
const HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>'];
const hostile = (() => {
  const b = new TreeBuilder({ type: 'cpu', unit: 'nanoseconds' });
  const [f1, f2] = HOSTILE.map((name) => b.frameOf(b.fn({ name, file: '', startLine: 0 }), 0));
  b.addStack([f1!, f2!], 2, 30_000_000n);
  b.addStack([f2!], 1, 10_000_000n);
  return flameGraphJson(b.build(), 100);
})();
const line = { kind: 'line', currency: 'JPY', labels: trend.labels, series: trend.series };

/** Hostile names, a line chart, and a flame graph whose JSON is missing. */
const PAGE2 = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>more</title>
<link rel="stylesheet" href="/assets/dashboard.css"><link rel="stylesheet" href="/assets/vendor/uplot.css">
</head><body><main class="page">
${jsonIsland('hostile-data', hostile)}
<div id="hostile" data-flamegraph data-island="hostile-data"></div>
<div id="missing" data-flamegraph data-src="/no-such.json"></div>
${jsonIsland('line-data', line)}
<div id="line" data-chart data-island="line-data" role="img" aria-label="Cost per day"></div>
</main>
<script src="/assets/vendor/uplot.js"></script>
<script src="/assets/charts.js"></script>
<script src="/assets/flamegraph.js"></script>
</body></html>`;

const PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>flame graph test</title>
<link rel="stylesheet" href="/assets/dashboard.css"><link rel="stylesheet" href="/assets/vendor/uplot.css">
</head><body><main class="page">
<h1>Flame graph</h1>
<div id="flame" data-flamegraph data-src="/flame.json" data-title="Team flame graph"></div>
<h2>Regression</h2>
${jsonIsland('diff-data', diff)}
<div id="diff" data-flamegraph data-diff data-island="diff-data"></div>
<h2>Trend</h2>
${jsonIsland('trend-data', trend)}
<div id="trend" data-chart data-island="trend-data"></div>
<p>Sparkline <span id="spark" data-chart data-island="spark-data"></span></p>
${jsonIsland('spark-data', sparkline)}
</main>
<script src="/assets/vendor/uplot.js"></script>
<script src="/assets/charts.js"></script>
<script src="/assets/flamegraph.js"></script>
</body></html>`;

type Rgba = [number, number, number, number];

/** The browser globals the page callbacks below use: the project compiles without the DOM library. */
interface PageElement {
  readonly id: string;
  readonly tagName: string;
  readonly width: number;
  readonly clientWidth: number;
  closest(selector: string): PageElement | null;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } };
}
declare const document: {
  querySelector(selector: string): PageElement;
  getElementById(id: string): PageElement;
  readonly activeElement: PageElement | null;
};
declare function getComputedStyle(element: PageElement): { readonly outlineStyle: string };

/** The canvas pixel at CSS (x, y) of a flame graph, as drawn (device pixels scaled). */
function pixel(page: Page, id: string, x: number, y: number): Promise<Rgba> {
  return page.evaluate(
    ({ id, x, y }) => {
      const canvas = document.querySelector(`#${id} canvas`);
      const scale = canvas.width / canvas.clientWidth;
      const d = canvas.getContext('2d')!.getImageData(Math.round(x * scale), Math.round(y * scale), 1, 1).data;
      return [d[0], d[1], d[2], d[3]] as Rgba;
    },
    { id, x, y },
  );
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Calls the element's test hook `element.flamegraph[method](...args)` in the page. */
function hook<T>(page: Page, id: string, method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ({ id, method, args }) => {
      const fg = (
        document.getElementById(id) as unknown as { flamegraph: Record<string, (...a: unknown[]) => unknown> }
      ).flamegraph;
      return fg[method]!(...args) as T;
    },
    { id, method, args },
  );
}

/** A node at `depth` of the JSON, the widest there that is not the heaviest child of its parent (so a zoom shows). */
function nodeAtDepth(g: FlameGraphJson, depth: number): number {
  const d = [0];
  for (let i = 1; i < g.parent.length; i++) d.push(d[g.parent[i]!]! + 1);
  let best = -1;
  for (let i = 1; i < g.parent.length; i++)
    if (d[i] === depth && g.value[i]! < g.value[0]! / 2 && (best < 0 || g.value[i]! > g.value[best]!)) best = i;
  return best;
}

describe.skipIf(!existsSync(CHROMIUM))(
  'flame graph and charts in Chromium (skipped when /usr/bin/chromium is absent: apt-get install -y chromium)',
  () => {
    let server: AssetServer;
    let browser: Browser;
    let page: Page;
    const errors: string[] = [];

    beforeAll(async () => {
      server = await startAssetServer();
      server.put('/flame.json', JSON.stringify(flame));
      server.put('/page.html', PAGE);
      server.put('/page2.html', PAGE2);
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 2 });
      page.on('console', (m) => void (m.type() === 'error' ? errors.push(m.text()) : 0));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}/page.html`);
      await page.waitForSelector('#flame[data-ready="true"]');
      await page.waitForSelector('#diff[data-ready="true"]');
      await page.waitForSelector('#trend[data-ready="true"]');
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('loads under the app CSP with no console error, and draws the canvas at the device pixel ratio', async () => {
      expect(errors).toEqual([]);
      const size = await page.evaluate(() => {
        const c = document.querySelector('#flame canvas');
        return { width: c.width, cssWidth: c.clientWidth };
      });
      expect(size.width).toBe(size.cssWidth * 2);
      // The root row spans the width: opaque pixels at both ends; below the deepest row, nothing.
      expect((await pixel(page, 'flame', 3, 9))[3]).toBe(255);
      expect((await pixel(page, 'flame', size.cssWidth - 4, 9))[3]).toBe(255);
      const label = await page.getAttribute('#flame canvas', 'aria-label');
      expect(label).toMatch(/^Team flame graph \(cpu, nanoseconds\): .+ in \d+ frames; widest at the top: /);
      expect(await page.textContent('#flame .flamegraph-summary')).toBe(label!.replace(/ Arrow keys.*$/, ''));
    });

    it('shows a tooltip with the function, its share and value on hover', async () => {
      const i = nodeAtDepth(flame, 2);
      const box = await hook<Box>(page, 'flame', 'box', i);
      const canvas = (await page.locator('#flame canvas').boundingBox())!;
      await page.mouse.move(canvas.x + box.x + box.width / 2, canvas.y + box.y + box.height / 2);
      const tip = page.locator('#flame .flamegraph-tooltip');
      await expect.poll(() => tip.isVisible()).toBe(true);
      const share = ((flame.value[i]! / flame.value[0]!) * 100).toFixed(
        flame.value[i]! / flame.value[0]! >= 0.1 ? 1 : 2,
      );
      expect(await tip.textContent()).toContain(flame.names[flame.name[i]!]!);
      expect(await tip.textContent()).toContain(`(${share} %)`);
    });

    it('zooms into the clicked node (its ancestors stay), and Escape resets', async () => {
      const i = nodeAtDepth(flame, 2);
      const name = flame.names[flame.name[i]!]!;
      const box = await hook<Box>(page, 'flame', 'box', i);
      expect(box.width).toBeLessThan(1000);
      const canvas = (await page.locator('#flame canvas').boundingBox())!;
      await page.mouse.click(canvas.x + box.x + box.width / 2, canvas.y + box.y + box.height / 2);
      expect(await page.getAttribute('#flame', 'data-zoom')).toBe(name);
      expect(await hook<{ index: number }>(page, 'flame', 'zoomedNode')).toMatchObject({ index: i, name });
      // The zoomed node now spans the whole width; its parent row is drawn above it.
      const zoomed = await hook<Box>(page, 'flame', 'box', i);
      expect(zoomed.width).toBeCloseTo(canvas.width, 0);
      expect(await hook<{ index: number }>(page, 'flame', 'nodeAt', canvas.width - 5, zoomed.y + 5)).toMatchObject({
        index: i,
      });
      expect(await hook<{ index: number }>(page, 'flame', 'nodeAt', 5, zoomed.y - 9)).toMatchObject({
        index: flame.parent[i],
      });
      await page.keyboard.press('Escape');
      expect(await page.getAttribute('#flame', 'data-zoom')).toBeNull();
      expect(await hook<{ index: number }>(page, 'flame', 'zoomedNode')).toMatchObject({ index: 0 });
      // Reset button: zoom, then click it.
      await hook(page, 'flame', 'zoom', i);
      expect(await page.getAttribute('#flame', 'data-zoom')).toBe(name);
      await page.click('#flame .flamegraph-reset');
      expect(await page.getAttribute('#flame', 'data-zoom')).toBeNull();
    });

    it('search highlights the matching frames and shows their share', async () => {
      const target = flame.names[flame.name[nodeAtDepth(flame, 3)]!]!;
      await page.fill('#flame input[type=search]', target);
      const frames = flame.name.filter((k) => flame.names[k]!.toLowerCase().includes(target.toLowerCase())).length;
      expect(await page.getAttribute('#flame', 'data-matches')).toBe(String(frames));
      expect(await page.textContent('#flame .flamegraph-match')).toMatch(
        new RegExp(`^Matched ${frames} frames, [\\d.]+ % of the total$`),
      );
      const i = flame.name.findIndex((k, n) => n > 0 && flame.names[k] === target);
      const box = await hook<Box>(page, 'flame', 'box', i);
      await expect.poll(() => pixel(page, 'flame', box.x + 2, box.y + 2)).toEqual([232, 121, 249, 255]);
      // A frame that does not match is greyed.
      expect(await pixel(page, 'flame', 3, 9)).toEqual([212, 212, 216, 255]);
      const result = await hook<{ frames: number; share: number }>(page, 'flame', 'search', 'no such function');
      expect(result).toEqual({ query: 'no such function', frames: 0, share: 0 });
      await hook(page, 'flame', 'search', '');
      expect(await page.getAttribute('#flame', 'data-matches')).toBeNull();
    });

    it('the keyboard reaches the search box and the canvas; arrows select, Enter zooms, Escape resets', async () => {
      await page.click('h1'); // the sequential focus navigation starts from the top of the page
      const reached: string[] = [];
      for (let k = 0; k < 8; k++) {
        await page.keyboard.press('Tab');
        reached.push(
          await page.evaluate(() => {
            const a = document.activeElement!;
            return `${a.closest('[data-flamegraph]')?.id ?? ''}:${a.tagName.toLowerCase()}`;
          }),
        );
        if (reached.at(-1) === 'flame:canvas') break;
      }
      expect(reached).toContain('flame:input');
      expect(reached.at(-1)).toBe('flame:canvas');
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
      expect(outline).toBe('solid');
      await hook(page, 'flame', 'select', 0); // earlier tests left a selection
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      const selected = await hook<{ index: number; name: string; depth: number }>(page, 'flame', 'selectedNode');
      expect(selected.depth).toBe(2);
      expect(await page.textContent('#flame .flamegraph-selection')).toContain(selected.name);
      await page.keyboard.press('ArrowRight');
      const right = await hook<{ index: number; depth: number }>(page, 'flame', 'selectedNode');
      if (right.index !== selected.index) expect(right.depth).toBe(2);
      await page.keyboard.press('Enter');
      expect(await page.getAttribute('#flame', 'data-zoom')).toBe(
        (await hook<{ name: string }>(page, 'flame', 'selectedNode')).name,
      );
      await page.keyboard.press('Escape');
      expect(await page.getAttribute('#flame', 'data-zoom')).toBeNull();
    });

    it('diff mode: legend, red for a new frame, blue for a gone one, shares in the tooltip', async () => {
      const items = await page.locator('#diff .flamegraph-legend .flamegraph-legend-item').allTextContents();
      expect(items).toEqual([
        'Share grew (darker: more)',
        'Share shrank (darker: more)',
        'Unchanged',
        '+ New in current',
        '− Gone from current',
        `Dashed outline: ${diff.focus}`,
      ]);
      expect(await page.locator('#diff .flamegraph-legend').textContent()).toContain('Base: v1; current: v2');
      for (const [change, red] of [
        [FLAME_CHANGE.new, true],
        [FLAME_CHANGE.gone, false],
      ] as const) {
        const i = widestOf(change);
        expect(diff.names[diff.name[i]!]).not.toBe(diff.focus);
        const box = await hook<Box | null>(page, 'diff', 'box', i);
        expect(box).not.toBeNull();
        const [r, , b] = await pixel(page, 'diff', box!.x + Math.min(box!.width - 1, 8), box!.y + 2);
        expect(red ? r > b : b > r, `change ${change} at node ${i}: rgb ${r},${b}`).toBe(true);
        const info = await hook<{ change: string; baseShare: number; currentShare: number }>(page, 'diff', 'node', i);
        expect(info.change).toBe(change === FLAME_CHANGE.new ? 'new' : 'gone');
      }
      const summary = await page.textContent('#diff .flamegraph-summary');
      expect(summary).toMatch(/^Differential flame graph of fib in checkout \(cpu, nanoseconds\): base /);
      expect(summary).toContain(` shrank (as shares of each total). ${diff.focus} (outlined): `);
      expect(summary).toMatch(/\(outlined\): [\d.]+ % → [\d.]+ % of the total\.$/);
      // The outlined frame: a dark dashed edge at its top-left corner.
      const focusBox = await hook<Box>(page, 'diff', 'box', outlined);
      expect(await pixel(page, 'diff', focusBox.x + 1, focusBox.y + 1)).toEqual([17, 17, 17, 255]);
    });

    it('a chart island renders a uPlot canvas, with amounts in the currency', async () => {
      const canvas = page.locator('#trend .uplot canvas');
      expect(await canvas.count()).toBe(1);
      expect((await canvas.boundingBox())!.width).toBeGreaterThan(200);
      const legend = await page.locator('#trend .u-legend').textContent();
      expect(legend).toContain('checkout');
      expect(legend).toContain('$1,380.00'); // the last day's own amount, not the stacked sum
      expect(await page.textContent('#trend .chart-total')).toBe('2026-11-06: total $2,280.75');
      expect(await page.getAttribute('#trend .chart-plot', 'aria-label')).toContain('checkout $6,420.75 in all');
      await page.waitForSelector('#spark[data-ready="true"]');
      expect(await page.locator('#spark .uplot canvas').count()).toBe(1);
      expect(await page.getAttribute('#spark .chart-plot', 'aria-label')).toContain('last day €1,380.00');
      expect(errors).toEqual([]);
      // FLAMEBILL_SCREENSHOTS=1 writes the page to the temp folder, to look at (the dashboard commits its own).
      if (process.env.FLAMEBILL_SCREENSHOTS === '1')
        await page.screenshot({ path: join(tmpdir(), 'flamebill-flamegraph-test.png'), fullPage: true });
    });

    it('hostile function names stay text; a line chart in yen; a missing JSON shows an alert', async () => {
      const other = await browser.newPage({ viewport: { width: 1000, height: 800 } });
      const dialogs: string[] = [];
      const problems: string[] = [];
      other.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      other.on('pageerror', (e) => problems.push(e.message));
      try {
        await other.goto(`${server.url}/page2.html`);
        await other.waitForSelector('#hostile[data-ready="true"]');
        await other.waitForSelector('#line[data-ready="true"]');
        await other.waitForSelector('#missing[data-state="error"]');
        expect(await other.locator('img').count()).toBe(0);
        expect(await other.locator('main script').count()).toBe(2); // the two islands, nothing injected
        expect(await other.textContent('#hostile .flamegraph-summary')).toContain(HOSTILE[0]);
        const box = (await other.locator('#hostile canvas').boundingBox())!;
        await other.mouse.move(box.x + 20, box.y + 18 + 9);
        expect(await other.textContent('#hostile .flamegraph-tooltip strong')).toBe(HOSTILE[0]);
        expect(await other.textContent('#missing [role=alert]')).toBe(
          'The flame graph could not be loaded: HTTP 404 from /no-such.json',
        );
        expect(await other.locator('#line .uplot canvas').count()).toBe(1);
        // The page's own label stays; the figures become its description.
        expect(await other.getAttribute('#line', 'aria-label')).toBe('Cost per day');
        expect(await other.getAttribute('#line', 'aria-description')).toMatch(
          /^Daily cost, 2026-11-02 to 2026-11-06: /,
        );
        expect(await other.locator('#line [role=img]').count()).toBe(0);
        expect(await other.locator('#line .u-legend').textContent()).toMatch(
          /checkout\s*[¥￥]1,380\s*search\s*[¥￥]901$/,
        );
        expect(dialogs).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await other.close();
      }
    });

    it('at phone width in dark mode: no horizontal overflow, dark background, the graph fits', async () => {
      const phone = await browser.newPage({ viewport: { width: 375, height: 800 }, colorScheme: 'dark' });
      try {
        await phone.goto(`${server.url}/page.html`);
        await phone.waitForSelector('#flame[data-ready="true"]');
        await phone.waitForSelector('#trend[data-ready="true"]');
        const layout = (await phone.evaluate(`({
          overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          background: getComputedStyle(document.body).backgroundColor,
          text: getComputedStyle(document.body).color,
          canvas: document.querySelector('#flame canvas').clientWidth,
        })`)) as { overflow: number; background: string; text: string; canvas: number };
        if (process.env.FLAMEBILL_SCREENSHOTS === '1')
          await phone.screenshot({ path: join(tmpdir(), 'flamebill-flamegraph-phone-dark.png'), fullPage: true });
        expect(layout).toEqual({ overflow: 0, background: 'rgb(15, 20, 26)', text: 'rgb(230, 233, 238)', canvas: 351 });
      } finally {
        await phone.close();
      }
    });
  },
);
