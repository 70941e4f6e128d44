import type { Page } from 'playwright-core';
import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { buildProfileTrees, encodeTree, pruneTree } from '../src/domain/profile/tree';
import { TREE_MAX_NODES } from '../src/profile-trees/profile-tree.service';
import { goWorkloadProfile, haveGo } from './support/go-workload';
import type { RunningServer } from '../src/server/bootstrap';
import { launchChromium } from './support/asset-server';
import { migratedBenchDatabase, reusedBenchDatabase } from './support/bench-database';
import { startBenchServer } from './support/bench-server';
import { loadAverage } from './support/measure';
import { END, fill, SERVICES } from './queries.bench';

const RUNS = 7;
const DAY = 86_400_000;

/**
 * Dashboard pages on the query bench's database (`npm run bench -- dashboard`: a year of 1,000 services, 100 teams;
 * see queries.bench.ts), opened in Debian's Chromium: time to the HTML (the server: every query of the page) and to
 * interactive (charts drawn, sort buttons in place), median and worst of RUNS cold-ish loads of different teams, for
 * the last full week and for a month. The facts hold no profile trees except those this bench adds: the real labelled
 * Go workload's tree (bench/workloads/labels, 60 s at 1000 Hz, pruned as stored to TREE_MAX_NODES: the largest a
 * service-day holds) as every day of the last week of svc-0000 (team-000); the service and team pages of those are
 * timed until their flame graph is drawn too (the team's merges its services' trees on read). Other pages' flame
 * graphs answer 404 at once. No reference exists to compare with (no other tool serves these pages), so the figures
 * are absolute, beside the 1 s target.
 */
export async function run(): Promise<void> {
  const out = process.stdout;
  out.write(`load ${loadAverage()}\n`);
  // FLAMEBILL_BENCH_REUSE=<url of a database this bench filled and kept with FLAMEBILL_BENCH_KEEP=1>: no fill.
  const reuse = process.env['FLAMEBILL_BENCH_REUSE']?.trim();
  const { db, url, close } = reuse ? await reusedBenchDatabase(reuse) : await migratedBenchDatabase();
  let server: RunningServer | null = null;
  const browser = await launchChromium();
  try {
    if (!reuse) await fill(db, 14);
    const treeNodes = haveGo() ? (reuse ? await treeNodesOf(db) : await addTrees(db)) : 0;
    out.write(
      treeNodes ? `trees: svc-0000, ${treeNodes.toLocaleString()} nodes a day, 7 days\n` : 'trees: none (no go)\n',
    );
    server = await startBenchServer(url, {
      labels: { keys: ['version'] },
    });
    const week = `from=${day(END - 7 * DAY)}&to=${day(END - DAY)}`;
    const month = 'month=2026-10';
    const unaligned = `from=${day(END - 10 * DAY)}&to=${day(END - 4 * DAY)}`;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const base = server.url;
    // Teams with services at this scale (`--services N` shrinks the fleet for a quick check of the bench itself).
    const teams = Math.min(100, SERVICES - 10);
    const team = (n: number) => `team-${String(n % teams).padStart(3, '0')}`;
    const service = (n: number) => `svc-${String(n % (SERVICES - 10)).padStart(4, '0')}`;
    const cases: Array<[string, (i: number) => string, boolean?]> = [
      ['overview, last full week', () => `/?${week}`],
      ['team page, last full week', (i) => `/teams/${team(i * 13)}?${week}`],
      ['team page, October', (i) => `/teams/${team(i * 13 + 50)}?${month}`],
      // Seven days that are not one ISO week (the picker's default "last 7 days" usually is not): no weekly copies.
      ['team page, 7 days Fri-Thu', (i) => `/teams/${team(i * 13 + 25)}?${unaligned}`],
      ['service page, last full week', (i) => `/services/${service(i * 131)}?${week}`],
      ...(treeNodes
        ? ([
            ['svc-0000 + its flame graph', () => `/services/svc-0000?${week}`, true],
            ['team-000 + its flame graph', () => `/teams/team-000?${week}`, true],
          ] as Array<[string, (i: number) => string, boolean]>)
        : []),
    ];
    out.write(
      `page                            html p50   html max   interactive p50   interactive max   (ms, ${RUNS} runs)\n`,
    );
    for (const [name, path, flame] of cases) {
      const html: number[] = [];
      const interactive: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = await timePage(page, `${base}${path(i)}`, flame === true);
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
async function timePage(page: Page, url: string, flame: boolean): Promise<{ html: number; interactive: number }> {
  const response = await page.goto(url);
  if (response?.status() !== 200) throw new Error(`${url}: ${response?.status()}`);
  // Functions, not strings: the pages' CSP forbids eval, which playwright uses for string predicates.
  await page.waitForFunction(
    (withFlame) => {
      const doc = (
        globalThis as unknown as {
          document: { querySelector(s: string): unknown; querySelectorAll(s: string): { length: number } };
        }
      ).document;
      return (
        doc.querySelector('button.sort') !== null &&
        doc.querySelectorAll('[data-chart]:not([data-ready="true"])').length === 0 &&
        (!withFlame || doc.querySelector('[data-flamegraph][data-ready="true"]') !== null)
      );
    },
    flame,
    { timeout: 60_000 },
  );
  return page.evaluate(() => {
    const perf = (
      globalThis as unknown as {
        performance: { getEntriesByType(t: string): Array<{ responseEnd: number }>; now(): number };
      }
    ).performance;
    return { html: perf.getEntriesByType('navigation')[0]!.responseEnd, interactive: perf.now() };
  });
}

/** The real Go workload's tree, pruned as stored, as svc-0000's tree on each day of the last week; its node count. */
async function addTrees(db: DataSource): Promise<number> {
  const bytes = readFileSync(goWorkloadProfile('labels-heavy', ['-seconds', '60', '-hz', '1000']));
  const tree = pruneTree(buildProfileTrees(bytes, { choose: () => ({ sampleType: 'cpu' }) })!.tree, TREE_MAX_NODES);
  const encoded = encodeTree(tree);
  for (let d = 7; d >= 1; d--)
    await db.query(
      `INSERT INTO profile_day_trees (service, day, version, windows, profiles, missing_raw, cpu_nanoseconds, node_count, tree)
       VALUES ('svc-0000', $1::date, '', 24, 24, 0, $2, $3, $4)`,
      [day(END - d * DAY), tree.value.toString(), tree.nodeCount, encoded],
    );
  return tree.nodeCount;
}

async function treeNodesOf(db: DataSource): Promise<number> {
  const [row] = (await db.query(
    `SELECT max(node_count)::int AS n FROM profile_day_trees WHERE service = 'svc-0000'`,
  )) as Array<{
    n: number | null;
  }>;
  return row?.n ?? 0;
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
