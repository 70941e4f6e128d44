import { gzipSync } from 'node:zlib';
import { Function as PFunction, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { StackTree } from './stack-tree';

/** Go's default CPU profiling period (100 Hz), used to count samples when a tree has no period of its own. */
const DEFAULT_PERIOD_NS = 10_000_000n;

/**
 * Writes a nanosecond tree as a pprof profile that `go tool pprof` and Go's PGO (`go build -pgo`) read: sample types
 * `samples/count` and `cpu/nanoseconds` (Go's own order; pprof shows the last by default, PGO takes the first),
 * period type `cpu/nanoseconds`, one function per tree function (name, file, start line), one location per frame
 * (one Line: the frame's function and line), one sample per node with a self value (its path, leaf first).
 *
 * The `cpu/nanoseconds` values are the tree's, exactly. A tree keeps no sample counts, so `samples/count` is the
 * value divided by the period (the tree's, else Go's default 10 ms), rounded half up and at least 1 for a positive
 * value, so that no hot edge vanishes from a PGO profile. Gzipped unless `gzip` is false.
 */
export function writePprof(tree: StackTree, options: { readonly gzip?: boolean } = {}): Uint8Array {
  const strings = new StringTable();
  const period = tree.period > 0n ? tree.period : DEFAULT_PERIOD_NS;
  const functions = tree.functions.map(
    (f, i) =>
      new PFunction({
        id: i + 1,
        name: strings.dedup(f.name),
        systemName: strings.dedup(f.name),
        filename: strings.dedup(f.file),
        startLine: f.startLine,
      }),
  );
  const locations = Array.from(
    tree.frameFunction,
    (fn, f) => new Location({ id: f + 1, line: [new Line({ functionId: fn + 1, line: tree.frameLine[f]! })] }),
  );
  const samples: Sample[] = [];
  for (let i = 0; i < tree.nodeCount; i++) {
    const self = tree.self[i]!;
    if (self === 0n) continue;
    const locationId: number[] = [];
    for (let n = i; n > 0; n = tree.parent[n]!) locationId.push(tree.frame[n]! + 1);
    samples.push(new Sample({ locationId, value: [numeric(sampleCount(self, period)), numeric(self)] }));
  }
  const profile = new Profile({
    sampleType: [
      new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }),
      new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    ],
    sample: samples,
    location: locations,
    function: functions,
    periodType: new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    period: numeric(period),
    stringTable: strings,
  });
  const bytes = profile.encode();
  return options.gzip === false ? bytes : gzipSync(bytes);
}

function sampleCount(value: bigint, period: bigint): bigint {
  const count = (value * 2n + period) / (2n * period);
  return value > 0n && count === 0n ? 1n : count;
}

function numeric(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Folded text: one `root;...;leaf VALUE` line per node with a non-zero self value, in node order. Names only (the
 * format has no file or line); values exact.
 */
export function writeFolded(tree: StackTree): string {
  const lines: string[] = [];
  const paths: string[] = new Array<string>(tree.nodeCount);
  paths[0] = '';
  for (let i = 1; i < tree.nodeCount; i++) {
    const p = paths[tree.parent[i]!]!;
    const name = tree.functionOf(i).name;
    paths[i] = p === '' ? name : `${p};${name}`;
  }
  for (let i = 1; i < tree.nodeCount; i++) if (tree.self[i] !== 0n) lines.push(`${paths[i]} ${tree.self[i]}`);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * A speedscope file (https://www.speedscope.app/file-format-schema.json) with one sampled profile: a frame per tree
 * frame (name, file, line), a sample per node with a self value (root first), weights in the tree's unit
 * (`nanoseconds` for time, else `none`). JSON numbers: a weight past 2^53 loses precision there, not in the tree.
 */
export function writeSpeedscope(tree: StackTree, name = 'flamebill'): Record<string, unknown> {
  const frames = Array.from(tree.frameFunction, (fn, f) => {
    const func = tree.functions[fn]!;
    const line = tree.frameLine[f]!;
    return { name: func.name, ...(func.file !== '' ? { file: func.file } : {}), ...(line > 0 ? { line } : {}) };
  });
  const samples: number[][] = [];
  const weights: number[] = [];
  let end = 0n;
  for (let i = 1; i < tree.nodeCount; i++) {
    const self = tree.self[i]!;
    if (self === 0n) continue;
    const stack: number[] = [];
    for (let n = i; n > 0; n = tree.parent[n]!) stack.push(tree.frame[n]!);
    samples.push(stack.reverse());
    weights.push(Number(self));
    end += self;
  }
  const unit = tree.sampleType.unit === 'nanoseconds' ? 'nanoseconds' : 'none';
  return {
    $schema: 'https://www.speedscope.app/file-format-schema.json',
    shared: { frames },
    profiles: [{ type: 'sampled', name, unit, startValue: 0, endValue: Number(end), samples, weights }],
    name,
    exporter: 'flamebill',
  };
}

/** A node of `treeToJson`: values as decimal strings (exact). */
export interface TreeJsonNode {
  readonly name: string;
  readonly file?: string;
  readonly line?: number;
  readonly self: string;
  readonly total: string;
  readonly children: TreeJsonNode[];
}

/** The tree as nested JSON-ready objects (for flame graphs; prune first: every node becomes an object). */
export function treeToJson(tree: StackTree): TreeJsonNode {
  const n = tree.nodeCount;
  const nodes: TreeJsonNode[] = new Array<TreeJsonNode>(n);
  nodes[0] = { name: 'root', self: tree.self[0]!.toString(), total: tree.value.toString(), children: [] };
  for (let i = 1; i < n; i++) {
    const f = tree.functionOf(i);
    const line = tree.lineOf(i);
    const node: TreeJsonNode = {
      name: f.name,
      ...(f.file !== '' ? { file: f.file } : {}),
      ...(line > 0 ? { line } : {}),
      self: tree.self[i]!.toString(),
      total: tree.total[i]!.toString(),
      children: [],
    };
    nodes[i] = node;
    nodes[tree.parent[i]!]!.children.push(node);
  }
  return nodes[0];
}
