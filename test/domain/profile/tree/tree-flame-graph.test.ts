import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildTree,
  diffTrees,
  emptyTree,
  encodeTree,
  FLAME_CHANGE,
  flameGraphDiffJson,
  flameGraphJson,
  mergeTrees,
  nodeChange,
  OTHER_FRAME_NAME,
  pruneTree,
  treeFunctions,
  TreeSampleTypeError,
  writeFolded,
  type StackTree,
} from '../../../../src/domain/profile/tree';

const FIXTURES = join(__dirname, '../../../fixtures/trees');
const read = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));
const cpuTree = (name: string) => buildTree(read(name), { choose: () => ({ sampleType: 'cpu' }) })!;
const samplesTree = (name: string) => buildTree(read(name), { choose: () => ({ sampleType: 'samples' }) })!;

const goTree = mergeTrees(
  ['cpu.pprof', 'devirt.pprof', 'inline_hot.pprof', 'normal-cpu.stripped.pprof', 'cpu-exemplars.pb.gz'].map(cpuTree),
);
const nodeA = cpuTree('node-a.pb.gz');
const nodeB = mergeTrees([cpuTree('node-b.pb.gz'), cpuTree('inline_hot.pprof')]);

/** Columns shared by both JSON kinds. */
interface Columns {
  names: string[];
  parent: number[];
  name: number[];
}

/** Root-first name path of every node of the JSON. */
function paths(g: Columns): string[] {
  const out: string[] = [''];
  for (let i = 1; i < g.parent.length; i++) {
    const p = out[g.parent[i]!]!;
    out.push(p === '' ? g.names[g.name[i]!]! : `${p};${g.names[g.name[i]!]!}`);
  }
  return out;
}

/** Folded text lines `path value` summed by path: comparable across node orders and line splits. */
function foldedSums(lines: Iterable<[string, bigint]>): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [path, v] of lines) if (v !== 0n) out.set(path, (out.get(path) ?? 0n) + v);
  return out;
}

function foldedOfTree(tree: StackTree): Map<string, bigint> {
  return foldedSums(
    writeFolded(tree)
      .split('\n')
      .filter(Boolean)
      .map((l): [string, bigint] => [l.slice(0, l.lastIndexOf(' ')), BigInt(l.slice(l.lastIndexOf(' ') + 1))]),
  );
}

/** The JSON is in pre-order: each node's subtree is the contiguous range after it, children heaviest first. */
function expectPreOrder(g: Columns, width: (i: number) => number): void {
  const n = g.parent.length;
  expect(g.parent[0]).toBe(-1);
  const end = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = n - 1; i > 0; i--) end[g.parent[i]!] = Math.max(end[g.parent[i]!]!, end[i]!);
  const lastChild = new Map<number, number>();
  for (let i = 1; i < n; i++) {
    const p = g.parent[i]!;
    expect(p).toBeLessThan(i);
    expect(i).toBeLessThan(end[p]!);
    const prev = lastChild.get(p);
    if (prev !== undefined) {
      expect(end[prev]).toBe(i); // the previous sibling's subtree ends right here
      expect(width(prev)).toBeGreaterThanOrEqual(width(i));
    } else expect(i).toBe(p + 1);
    lastChild.set(p, i);
  }
}

function expectAdditive(parent: number[], self: number[], value: number[]): void {
  const sum = self.slice();
  for (let i = parent.length - 1; i > 0; i--) sum[parent[i]!]! += sum[i]!;
  expect(sum).toEqual(value);
}

describe('flameGraphJson', () => {
  it('holds the whole real tree: same folded stacks, exact total, pre-order heaviest first, values add up', () => {
    const before = encodeTree(goTree);
    const g = flameGraphJson(goTree, 1_000_000);
    expect(encodeTree(goTree)).toEqual(before);
    expect(g).toMatchObject({ version: 1, kind: 'flame', sampleType: { type: 'cpu', unit: 'nanoseconds' } });
    expect(g.total).toBe(goTree.value.toString());
    expect(g.parent.length).toBe(goTree.nodeCount);
    expect(g.value[0]).toBe(Number(goTree.value));
    expectPreOrder(g, (i) => g.value[i]!);
    expectAdditive(g.parent, g.self, g.value);
    const p = paths(g);
    expect(foldedSums(g.self.map((v, i): [string, bigint] => [p[i]!, BigInt(v)]))).toEqual(foldedOfTree(goTree));
    expect(new Set(g.names).size).toBe(g.names.length);
  });

  it('prunes with pruneTree: at most maxNodes real frames, exact total, kept frames keep their totals', () => {
    const g = flameGraphJson(goTree, 25);
    const p = paths(g);
    const real = p.filter((path, i) => i > 0 && !path.endsWith(OTHER_FRAME_NAME));
    expect(real.length).toBe(25);
    expect(p.some((path) => path.endsWith(OTHER_FRAME_NAME))).toBe(true);
    expect(g.total).toBe(goTree.value.toString());
    expect(g.value[0]).toBe(Number(goTree.value));
    expectAdditive(g.parent, g.self, g.value);
    expectPreOrder(g, (i) => g.value[i]!);
    // The same (name path, total) pairs as pruneTree's own result, whose kept totals its tests prove exact.
    const pruned = pruneTree(goTree, 25);
    const expected = Array.from({ length: pruned.nodeCount - 1 }, (_, k) => {
      const i = k + 1;
      return `${pruned.pathNames(i).join(';')} ${pruned.total[i]}`;
    });
    expect(
      p
        .slice(1)
        .map((path, k) => `${path} ${g.value[k + 1]}`)
        .sort(),
    ).toEqual(expected.sort());
  });

  it('survives JSON and a tree of one sample type other than time', () => {
    const g = flameGraphJson(samplesTree('cpu.pprof'), 100);
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
    expect(g.sampleType).toEqual({ type: 'samples', unit: 'count' });
  });
});

describe('flameGraphDiffJson', () => {
  it('the union of two real trees: exact totals, shares of each total, change as nodeChange judges it', () => {
    const d = flameGraphDiffJson(nodeA, nodeB, 1_000_000);
    const exact = diffTrees(nodeA, nodeB);
    expect(d.kind).toBe('diff');
    expect(d.parent.length).toBe(exact.parent.length);
    expect(d.base.total).toBe(nodeA.value.toString());
    expect(d.current.total).toBe(nodeB.value.toString());
    expect([d.base.share[0], d.current.share[0]]).toEqual([1, 1]);
    expectAdditive(d.parent, d.base.self, d.base.value);
    expectAdditive(d.parent, d.current.self, d.current.value);
    expectPreOrder(d, (i) => d.base.share[i]! + d.current.share[i]!);
    const counts = new Map<number, number>();
    for (let i = 0; i < d.parent.length; i++) {
      const [b, c] = [d.base.share[i]!, d.current.share[i]!];
      expect(b).toBeCloseTo(d.base.value[i]! / Number(nodeA.value), 9);
      expect(c).toBeCloseTo(d.current.value[i]! / Number(nodeB.value), 9);
      const change = d.change[i]!;
      counts.set(change, (counts.get(change) ?? 0) + 1);
      if (change === FLAME_CHANGE.new) expect([b, d.base.value[i]]).toEqual([0, 0]);
      if (change === FLAME_CHANGE.gone) expect([c, d.current.value[i]]).toEqual([0, 0]);
      if (change === FLAME_CHANGE.grew) expect(c).toBeGreaterThan(b);
      if (change === FLAME_CHANGE.shrank) expect(c).toBeLessThan(b);
    }
    // Same multiset of changes as the exact diff (node order differs).
    const exactCounts = new Map<number, number>();
    for (let i = 0; i < exact.parent.length; i++) {
      const change = FLAME_CHANGE[nodeChange(exact, i)];
      exactCounts.set(change, (exactCounts.get(change) ?? 0) + 1);
    }
    expect(counts).toEqual(exactCounts);
    expect(counts.get(FLAME_CHANGE.new)).toBeGreaterThan(0);
    expect(counts.get(FLAME_CHANGE.gone)).toBeGreaterThan(0);
  });

  it('prunes the union once: both sides fold into the same (other) nodes and keep exact totals', () => {
    const whole = flameGraphDiffJson(nodeA, nodeB, 1_000_000);
    const wholeByPath = new Map(paths(whole).map((path, i) => [path, i]));
    const d = flameGraphDiffJson(nodeA, nodeB, 12);
    const p = paths(d);
    const real = p.filter((path, i) => i > 0 && !path.endsWith(OTHER_FRAME_NAME));
    expect(real.length).toBe(12);
    expect(d.base.total).toBe(nodeA.value.toString());
    expect(d.current.total).toBe(nodeB.value.toString());
    expect([d.base.value[0], d.current.value[0]]).toEqual([Number(nodeA.value), Number(nodeB.value)]);
    expectAdditive(d.parent, d.base.self, d.base.value);
    expectAdditive(d.parent, d.current.self, d.current.value);
    for (const path of real) {
      const w = wholeByPath.get(path)!;
      expect([path, d.base.value[p.indexOf(path)], d.current.value[p.indexOf(path)]]).toEqual([
        path,
        whole.base.value[w],
        whole.current.value[w],
      ]);
    }
    // The kept frames are the widest: none left out is wider than the narrowest kept one.
    const width = (g: typeof d, i: number) => g.base.share[i]! + g.current.share[i]!;
    const narrowest = Math.min(...real.map((path) => width(d, p.indexOf(path))));
    for (const [path, w] of wholeByPath)
      if (path !== '' && !p.includes(path)) expect(width(whole, w)).toBeLessThanOrEqual(narrowest);
  });

  it('a tree against itself changes nowhere', () => {
    const d = flameGraphDiffJson(goTree, goTree, 500);
    expect(new Set(d.change)).toEqual(new Set([FLAME_CHANGE.same]));
    expect(d.base.share).toEqual(d.current.share);
  });

  it('exclude leaves frames out of both sides, so shares are over what remains (as the regression scan does)', () => {
    const [name, cum] = [...treeFunctions(nodeB)]
      .map(([n, v]): [string, bigint] => [n, v.cum])
      .filter(([, c]) => c > 0n && c < nodeB.value)
      .sort((x, y) => (y[1] > x[1] ? 1 : -1))[0]!;
    const d = flameGraphDiffJson(nodeA, nodeB, 1_000_000, { exclude: (n) => n === name });
    expect(BigInt(d.current.total)).toBe(nodeB.value - cum);
    expect(d.names).not.toContain(name);
    expect(d.current.share[0]).toBe(1);
  });

  it('an empty base: every frame is new, drawn at half its current share; an empty tree is a lone root', () => {
    const d = flameGraphDiffJson(emptyTree(nodeB.sampleType), nodeB, 1_000_000);
    expect(d.base.total).toBe('0');
    expect(new Set(d.change.slice(1))).toEqual(new Set([FLAME_CHANGE.new]));
    expect(d.base.share.every((s) => s === 0)).toBe(true);
    expect(d.current.share[0]).toBe(1);
    expect(flameGraphJson(emptyTree(nodeB.sampleType), 10)).toEqual({
      version: 1,
      kind: 'flame',
      sampleType: { type: 'cpu', unit: 'nanoseconds' },
      total: '0',
      names: ['root'],
      parent: [-1],
      name: [0],
      self: [0],
      value: [0],
    });
  });

  it('refuses trees of different sample types', () => {
    expect(() => flameGraphDiffJson(cpuTree('cpu.pprof'), samplesTree('cpu.pprof'), 10)).toThrow(TreeSampleTypeError);
  });
});
