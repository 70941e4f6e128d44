import { readFileSync } from 'node:fs';
import { goWorkloadProfile, haveGo } from './support/go-workload';
import { loadAverage, timedMedian as timed } from './support/measure';
import {
  buildProfileTrees,
  decodeTree,
  encodeTree,
  mergeTrees,
  pruneTree,
  treeToJson,
  type StackTree,
} from '../src/domain/profile/tree';
import { TREE_MAX_NODES } from '../src/profile-trees/profile-tree.service';

const HOURS = 24;
const DISPLAY_NODES = 2_000;

/**
 * Stack trees on the real labelled Go workload (bench/workloads/labels, 60 s at 1000 Hz, the profile bench's input):
 * - one window's tree: build time from the profile, nodes, encoded bytes whole and as stored (pruned to
 *   TREE_MAX_NODES);
 * - a service-day: 24 "hourly" trees, each the real samples of a few tenants of the profile (the `tenant` label
 *   splits the profile into 40 real, distinct trees; hour h takes tenants h, h+24 mod 40 ...), pruned as stored;
 *   merging them (target ≤ 1 s), pruning the day to TREE_MAX_NODES, its bytes (the figure of docs/data-model.md);
 * - reading that day tree as a publisher does: decode, prune to 2,000 nodes, JSON.stringify (target ≤ 100 ms).
 * Times are medians of 5 runs after one warm-up.
 */
export async function run(): Promise<void> {
  if (!haveGo()) {
    process.stdout.write('trees bench: skipped, `go` is not on PATH (it generates the workload profile)\n');
    return;
  }
  process.stdout.write(`load average before: ${loadAverage()} (2 cores, shared with other engineers)\n`);
  const path = goWorkloadProfile('labels-heavy', ['-seconds', '60', '-hz', '1000']);
  const bytes = readFileSync(path);
  const cpu = { choose: () => ({ sampleType: 'cpu' }) };

  const build = timed(() => buildProfileTrees(bytes, cpu)!.tree, 3);
  const whole = build.value;
  const stored = pruneTree(whole, TREE_MAX_NODES);
  process.stdout.write(
    `window tree of the 60 s profile (${kib(bytes.length)} gzipped): built in ${ms(build.ms)}; ${whole.nodeCount.toLocaleString()} nodes, ` +
      `${kib(encodeTree(whole).length)} encoded (${kib(encodeTree(whole, { compress: false }).length)} before deflate); ` +
      `stored pruned to ${TREE_MAX_NODES.toLocaleString()} nodes: ${kib(encodeTree(stored).length)}\n`,
  );
  const split = timed(() => buildProfileTrees(bytes, { ...cpu, splitLabel: 'endpoint' })!, 1);
  const splitBytes = [...split.value.byLabel.values()].map((t) => encodeTree(pruneTree(t, TREE_MAX_NODES)).length);
  process.stdout.write(
    `same, split by a label with ${split.value.byLabel.size} values (as by version): ${ms(split.ms)}; the ${splitBytes.length} split trees as stored: ${kib(sum(splitBytes))} ` +
      `(${kib(sum(splitBytes) / splitBytes.length)} each)\n`,
  );

  const tenants = [...buildProfileTrees(bytes, { ...cpu, splitLabel: 'tenant' })!.byLabel.values()];
  const hourly: StackTree[] = [];
  for (let h = 0; h < HOURS; h++) {
    const parts = tenants.filter((_, i) => i % HOURS === h);
    hourly.push(pruneTree(mergeTrees(parts), TREE_MAX_NODES));
  }
  const hourlyBytes = hourly.map((t) => encodeTree(t).length);
  process.stdout.write(
    `${HOURS} hourly trees: ${min(hourly.map((t) => t.nodeCount))}-${max(hourly.map((t) => t.nodeCount))} nodes, ` +
      `${kib(sum(hourlyBytes))} encoded in all (${kib(sum(hourlyBytes) / HOURS)} each)\n`,
  );
  const decodedHourly = hourly.map((t) => encodeTree(t));
  const merge = timed(() => mergeTrees(decodedHourly.map((b) => decodeTree(b))), 5);
  const mergeOnly = timed(() => mergeTrees(hourly), 5);
  const day = pruneTree(merge.value, TREE_MAX_NODES);
  const dayBytes = encodeTree(day);
  process.stdout.write(
    `merge of the ${HOURS} hourly trees: ${ms(mergeOnly.ms)} (target ≤ 1 s), ${ms(merge.ms)} with decoding them; ` +
      `${merge.value.nodeCount.toLocaleString()} nodes, day tree stored pruned to ${day.nodeCount.toLocaleString()} nodes: ${kib(dayBytes.length)}\n`,
  );
  process.stdout.write(
    `bytes per service-day (day row + ${HOURS} window rows, no version split): ${kib(dayBytes.length + sum(hourlyBytes))}\n`,
  );

  const read = timed(() => JSON.stringify(treeToJson(pruneTree(decodeTree(dayBytes), DISPLAY_NODES))), 5);
  const decodeOnly = timed(() => decodeTree(dayBytes), 5);
  process.stdout.write(
    `read a ${day.nodeCount.toLocaleString()}-node day tree, prune to ${DISPLAY_NODES.toLocaleString()}, JSON: ${ms(read.ms)} (target ≤ 100 ms; decode alone ${ms(decodeOnly.ms)}), ` +
      `${kib(read.value.length)} of JSON\n`,
  );
  process.stdout.write(`load average after: ${loadAverage()}\n`);
}

/** Median wall time of `runs` calls after one warm-up, and the last result. */
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const min = (xs: number[]) => Math.min(...xs).toLocaleString();
const max = (xs: number[]) => Math.max(...xs).toLocaleString();
const ms = (x: number) => `${x.toFixed(1)} ms`;
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
