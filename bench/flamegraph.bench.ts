import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, startAssetServer, type AssetServer } from './support/asset-server';
import { loadAverage, timedMedian as timed } from './support/measure';
import { flameGraphDiffJson, flameGraphJson, TreeBuilder, type StackTree } from '../src/domain/profile/tree';

const NODES = 50_000;
const RUNS = 7;

/**
 * The dashboard's flame graph on a 50k-node tree (the target: drawn within 1 s), in Debian's Chromium:
 * - the JSON: flameGraphJson / flameGraphDiffJson time in Node and bytes (as sent, and gzipped as a proxy would);
 * - time from navigation start to `data-ready` (flamegraph.js's performance mark "flamegraph-ready": HTML, scripts,
 *   fetching and parsing the JSON, layout and the first draw), median of RUNS page loads after one warm-up;
 * - redraw after a zoom and a search (the test hooks, timed inside the page).
 * The tree is synthetic (a seeded generator: Zipf-like function popularity, stacks 8-40 deep, heavy-tailed values),
 * because the committed real trees have hundreds to a few thousand nodes; real stored trees are pruned to
 * TREE_MAX_NODES anyway. No reference renderer (speedscope, d3-flame-graph) is installed here to compare against.
 */
export async function run(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    process.stdout.write(`flamegraph bench: skipped, ${CHROMIUM} is absent (apt-get install -y chromium)\n`);
    return;
  }
  process.stdout.write(`load average before: ${loadAverage()} (2 cores, shared with other sessions)\n`);
  const tree = syntheticTree(1, NODES);
  const other = syntheticTree(2, NODES);
  const json = timed(() => JSON.stringify(flameGraphJson(tree, NODES)), 5);
  const diffJson = timed(() => JSON.stringify(flameGraphDiffJson(tree, other, NODES)), 5);
  const [flame, diff] = [json.value, diffJson.value];
  process.stdout.write(
    `tree: ${(tree.nodeCount - 1).toLocaleString()} frames, ${tree.functions.length.toLocaleString()} functions; ` +
      `flameGraphJson + JSON.stringify ${ms(json.ms)} → ${kib(flame.length)} (${kib(gzipSync(flame).length)} gzipped); ` +
      `flameGraphDiffJson of two such trees ${ms(diffJson.ms)} → ${kib(diff.length)} (${kib(gzipSync(diff).length)} gzipped) ` +
      `(Node, median of 5 after a warm-up)\n`,
  );

  const server = await startAssetServer();
  const browser = await launchChromium();
  try {
    server.put('/flame.json', flame);
    server.put('/diff.json', diff);
    for (const [label, src] of [
      ['flame graph', '/flame.json'],
      ['differential flame graph', '/diff.json'],
    ] as const) {
      server.put(`/page${src}.html`, page(src));
      const r = await measurePage(browser, server, `/page${src}.html`);
      process.stdout.write(
        `${label}, ${r.nodes.toLocaleString()} nodes: navigation → data-ready median ${ms(r.ready)} ` +
          `(min ${ms(r.min)}, max ${ms(r.max)}, ${RUNS} runs; target ≤ 1000 ms); redraw after zoom ${ms(r.zoom)}, ` +
          `search ${ms(r.search)}; JSON transferred ${kib(server.sent.get(src)! / (RUNS + 1))} per load\n`,
      );
    }
  } finally {
    await browser.close();
    await server.close();
  }
  process.stdout.write(`load average after: ${loadAverage()}\n`);
}

function page(src: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>flame graph bench</title><link rel="stylesheet" href="/assets/dashboard.css"></head>
<body><main class="page"><div id="fg" data-flamegraph data-src="${src}"></div></main>
<script src="/assets/flamegraph.js"></script></body></html>`;
}

interface PageTimes {
  nodes: number;
  ready: number;
  min: number;
  max: number;
  zoom: number;
  search: number;
}

async function measurePage(browser: Browser, server: AssetServer, path: string): Promise<PageTimes> {
  const ready: number[] = [];
  let zoom = 0;
  let search = 0;
  let nodes = 0;
  for (let r = 0; r <= RUNS; r++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`${server.url}${path}`);
    await tab.waitForSelector('#fg[data-ready="true"]', { timeout: 30_000 });
    if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    // In-page timings: the browser globals are reached through a string so this file compiles without the DOM lib.
    const t = (await tab.evaluate(`(() => {
      const fg = document.getElementById('fg').flamegraph;
      const ready = performance.getEntriesByName('flamegraph-ready')[0].startTime;
      let i = 1;
      while (i < fg.nodeCount && fg.node(i).depth !== 3) i++;
      const z0 = performance.now();
      fg.zoom(i);
      fg.reset();
      const z1 = performance.now();
      fg.search('pkg1.');
      const s1 = performance.now();
      fg.search('');
      return { ready, zoom: (z1 - z0) / 2, search: s1 - z1, nodes: fg.nodeCount };
    })()`)) as { ready: number; zoom: number; search: number; nodes: number };
    if (r > 0) {
      ready.push(t.ready);
      zoom += t.zoom / RUNS;
      search += t.search / RUNS;
    }
    nodes = t.nodes;
    await context.close();
  }
  ready.sort((a, b) => a - b);
  return { nodes, ready: ready[Math.floor(ready.length / 2)]!, min: ready[0]!, max: ready.at(-1)!, zoom, search };
}

/** A deterministic tree of about `nodes` frames: popular functions near the root, a long tail below. */
function syntheticTree(seed: number, nodes: number): StackTree {
  let state = seed * 2654435761;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const builder = new TreeBuilder({ type: 'cpu', unit: 'nanoseconds' }, 10_000_000n);
  const FUNCTIONS = 6_000;
  const frames = Array.from({ length: FUNCTIONS }, (_, f) =>
    builder.frameOf(builder.fn({ name: `pkg${f % 97}.Func${f}`, file: `pkg${f % 97}/f${f}.go`, startLine: 1 }), 0),
  );
  const stack = new Int32Array(64);
  // Each stack shares a prefix with the previous one, as samples of one program do.
  let prev = new Int32Array(0);
  while (builder.nodeCount < nodes + 1) {
    const depth = 8 + Math.floor(random() * 33);
    const keep = Math.min(prev.length, Math.floor(random() * depth));
    for (let d = 0; d < depth; d++) {
      // Zipf-like choice: low indices (popular functions) far more often, more so near the root.
      const spread = Math.min(FUNCTIONS, 8 + d * d * 12);
      stack[d] = d < keep ? prev[d]! : frames[Math.floor(spread * random() ** 2)]!;
    }
    prev = stack.slice(0, depth);
    const value = BigInt(Math.ceil(1 / (random() + 0.001))) * 10_000_000n;
    builder.addStack(stack, depth, value);
  }
  return builder.build();
}

/** Median wall time of `runs` calls after one warm-up, and the last result. */
const ms = (x: number) => `${x.toFixed(1)} ms`;
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
