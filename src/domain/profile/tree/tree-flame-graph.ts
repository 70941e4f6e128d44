import type { ValueType } from '../profile.types';
import { StackTree, TreeBuilder, type TreeFunction } from './stack-tree';
import { diffTrees, nodeChange, shareOf, type NodeChange } from './tree-diff';
import { OTHER_FRAME_NAME, pruneTree } from './tree-prune';

/**
 * A flame graph as the browser draws it (`reports/assets/flamegraph.js`): columnar arrays, one entry per node, node 0
 * the root, in depth-first pre-order with each node's children heaviest first, so a subtree is the contiguous range
 * that follows its node and the client lays nodes out in one forward pass.
 *
 * Precision: `total` is the tree's exact value (decimal string). `self` and `value` (self and total per node) are JS
 * numbers, exact up to 2^53 (about 104 days of CPU in nanoseconds) and within 2^-53 relative beyond: enough to draw
 * and to print a share, never a figure to add up (the exact numbers are the API's).
 */
export interface FlameGraphJson {
  readonly version: 1;
  readonly kind: 'flame';
  readonly sampleType: { readonly type: string; readonly unit: string };
  readonly total: string;
  /** Distinct function names; `name[i]` indexes it. */
  readonly names: string[];
  readonly parent: number[];
  readonly name: number[];
  readonly self: number[];
  readonly value: number[];
}

/** Per-node change code of `FlameGraphDiffJson.change`. */
export const FLAME_CHANGE: Readonly<Record<NodeChange, number>> = { same: 0, grew: 1, shrank: 2, new: 3, gone: 4 };

/** One side (base or current) of a differential flame graph: exact total, per-node values as numbers. */
export interface FlameGraphSide {
  readonly total: string;
  readonly self: number[];
  readonly value: number[];
  /** Each node's total as a share of this side's total (0 for an empty side): what a share regression compares. */
  readonly share: number[];
}

/**
 * A differential flame graph: the union of two trees' paths (same layout rules as `FlameGraphJson`), each node with
 * its base and current values and shares, and `change` (`FLAME_CHANGE`: compared exactly as shares, as `nodeChange`
 * does). A node is drawn `(base.share + current.share) / 2` wide, which adds up like a share (children fit in their
 * parent) and keeps both new and gone nodes visible; the client colours by `current.share - base.share`.
 */
export interface FlameGraphDiffJson {
  readonly version: 1;
  readonly kind: 'diff';
  readonly sampleType: { readonly type: string; readonly unit: string };
  readonly names: string[];
  readonly parent: number[];
  readonly name: number[];
  readonly change: number[];
  readonly base: FlameGraphSide;
  readonly current: FlameGraphSide;
}

export interface FlameGraphDiffOptions {
  /**
   * Frames left out of both trees with everything under them, so that shares are over the totals without them: pass
   * the regression scan's `ignoreFunction` (default there `isProfilerArtifact`) to draw shares normalized as the
   * regression was. Default: none.
   */
  readonly exclude?: (name: string) => boolean;
}

/**
 * The flame graph JSON of `tree`, pruned with `pruneTree(tree, maxNodes)`: at most `maxNodes` real frames plus the
 * root and one `(other)` per kept node whose lighter children were folded; every kept node's total and the tree's
 * total are exact. The input is not modified.
 */
export function flameGraphJson(tree: StackTree, maxNodes: number): FlameGraphJson {
  const pruned = pruneTree(tree, maxNodes);
  const order = preOrder(pruned.parent, pruned.total);
  const { names, name } = nameColumn(order, (i) => (i === 0 ? 'root' : pruned.functionOf(i).name));
  return {
    version: 1,
    kind: 'flame',
    sampleType: sampleTypeOf(pruned.sampleType),
    total: pruned.value.toString(),
    names,
    parent: parentColumn(order, pruned.parent),
    name,
    self: order.map((i) => Number(pruned.self[i]!)),
    value: order.map((i) => Number(pruned.total[i]!)),
  };
}

/**
 * The differential flame graph JSON of `base` → `current`. The union tree is pruned as one: the nodes kept are the
 * `maxNodes` heaviest by base share + current share (the drawn width; `pruneTree` on that exact cross-multiplied
 * weight), and each side's pruned frames fold into the same `(other)` nodes, so both sides keep their exact totals
 * and every kept node its exact values.
 * @throws TreeSampleTypeError when the sample types differ.
 */
export function flameGraphDiffJson(
  base: StackTree,
  current: StackTree,
  maxNodes: number,
  options: FlameGraphDiffOptions = {},
): FlameGraphDiffJson {
  const b = options.exclude ? withoutFrames(base, options.exclude) : base;
  const c = options.exclude ? withoutFrames(current, options.exclude) : current;
  const union = diffTrees(b, c);
  const shape = pruneTree(weightTree(union, b), maxNodes);
  const diff = diffTrees(projectOnto(b, shape), projectOnto(c, shape));
  const n = diff.parent.length;
  const width = Array.from({ length: n }, (_, i) => {
    const s = shareOf(diff, i);
    return s.base + s.current;
  });
  const order = preOrder(diff.parent, width);
  const { names, name } = nameColumn(order, (i) => (i === 0 ? 'root' : diff.functions[diff.nodeFunction[i]!]!.name));
  const side = (s: typeof diff.base, pick: 'base' | 'current'): FlameGraphSide => ({
    total: s.value.toString(),
    self: order.map((i) => Number(s.self[i]!)),
    value: order.map((i) => Number(s.total[i]!)),
    share: order.map((i) => shareOf(diff, i)[pick]),
  });
  return {
    version: 1,
    kind: 'diff',
    sampleType: sampleTypeOf(b.sampleType),
    names,
    parent: parentColumn(order, diff.parent),
    name,
    change: order.map((i) => FLAME_CHANGE[nodeChange(diff, i)]),
    base: side(diff.base, 'base'),
    current: side(diff.current, 'current'),
  };
}

function sampleTypeOf(t: ValueType): { type: string; unit: string } {
  return { type: t.type, unit: t.unit };
}

/** Node ids in depth-first pre-order, children by descending weight (ties: lower id first, so output is stable). */
function preOrder(parent: Int32Array, weight: readonly (bigint | number)[]): number[] {
  const n = parent.length;
  const children: number[][] = Array.from({ length: n }, () => []);
  for (let i = 1; i < n; i++) children[parent[i]!]!.push(i);
  const order: number[] = [];
  const stack = [0];
  while (stack.length > 0) {
    const i = stack.pop()!;
    order.push(i);
    const kids = children[i]!;
    kids.sort((x, y) => (weight[y]! > weight[x]! ? 1 : weight[y]! < weight[x]! ? -1 : x - y));
    // Pushed lightest first so the heaviest child is popped (and laid out) first.
    for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]!);
  }
  return order;
}

function parentColumn(order: readonly number[], parent: Int32Array): number[] {
  const position = new Int32Array(parent.length);
  order.forEach((id, k) => (position[id] = k));
  return order.map((id) => (id === 0 ? -1 : position[parent[id]!]!));
}

function nameColumn(order: readonly number[], nameOf: (i: number) => string): { names: string[]; name: number[] } {
  const names: string[] = [];
  const index = new Map<string, number>();
  const name = order.map((i) => {
    const s = nameOf(i);
    let k = index.get(s);
    if (k === undefined) {
      k = names.length;
      names.push(s);
      index.set(s, k);
    }
    return k;
  });
  return { names, name };
}

/**
 * The union tree as a StackTree whose values are base share + current share scaled to integers: base × C + current
 * × B (B, C the two totals; a side with total 0 counts with factor 0 and the other side with 1), so pruneTree keeps
 * the widest nodes of the differential graph exactly.
 */
function weightTree(union: ReturnType<typeof diffTrees>, base: StackTree): StackTree {
  const B = union.base.value;
  const C = union.current.value;
  const fb = B === 0n ? 0n : C === 0n ? 1n : C;
  const fc = C === 0n ? 0n : B === 0n ? 1n : B;
  const n = union.parent.length;
  const self = Array.from({ length: n }, (_, i) => union.base.self[i]! * fb + union.current.self[i]! * fc);
  const total = self.slice();
  for (let i = n - 1; i > 0; i--) total[union.parent[i]!]! += total[i]!;
  // Nodes of width 0 (e.g. only in an excluded subtree, or of an empty side) are left out of the drawing.
  const builder = new TreeBuilder(base.sampleType, base.period);
  builder.reserve(n);
  const fnMap = new Int32Array(union.functions.length).fill(-1);
  const frames = new Map<number, number>();
  const map = new Int32Array(n);
  for (let i = 1; i < n; i++) {
    const p = union.parent[i]!;
    if (total[i] === 0n || map[p] === -1) {
      map[i] = -1;
      continue;
    }
    const f = union.nodeFunction[i]!;
    if (fnMap[f] === -1) fnMap[f] = builder.fn(union.functions[f]!);
    map[i] = builder.child(map[p]!, frameOf(builder, fnMap[f]!, union.nodeLine[i]!, frames));
    if (self[i] !== 0n) builder.addSelf(map[i]!, self[i]!);
  }
  return builder.build();
}

/** builder.frameOf with a numeric cache in front (its own key is a string, most of a 50k-node projection's time). */
function frameOf(builder: TreeBuilder, fn: number, line: number, cache: Map<number, number>): number {
  const key = fn * 4_294_967_296 + line;
  let frame = cache.get(key);
  if (frame === undefined) cache.set(key, (frame = builder.frameOf(fn, line)));
  return frame;
}

function frameKey(f: TreeFunction, line: number): string {
  return `${f.name}\u0000${f.file}\u0000${f.startLine}\u0000${line}`;
}

/**
 * `tree` with the shape of `shape` (a pruned tree): every node of `tree` lands on the node of `shape` with its path,
 * or, past the last kept frame, on that frame's `(other)` child; values are exact and the total unchanged.
 */
function projectOnto(tree: StackTree, shape: StackTree): StackTree {
  // Frames of `tree` as frames of `shape` (-1: none), by function and line; children of shape nodes by numeric key.
  const shapeFrames = new Map<string, number>();
  for (let f = 0; f < shape.frameFunction.length; f++)
    shapeFrames.set(frameKey(shape.functions[shape.frameFunction[f]!]!, shape.frameLine[f]!), f);
  const toShape = Int32Array.from(tree.frameFunction, (fn, f) => {
    return shapeFrames.get(frameKey(tree.functions[fn]!, tree.frameLine[f]!)) ?? -1;
  });
  const F = Math.max(1, shape.frameFunction.length);
  const child = new Map<number, number>();
  for (let i = 1; i < shape.nodeCount; i++) {
    const f = shape.functionOf(i);
    if (f.name !== OTHER_FRAME_NAME || f.file !== '') child.set(shape.parent[i]! * F + shape.frame[i]!, i);
  }
  const builder = new TreeBuilder(tree.sampleType, tree.period);
  builder.reserve(shape.nodeCount);
  const frameMap = Int32Array.from(shape.frameFunction, (fn, f) =>
    builder.frameOf(builder.fn(shape.functions[fn]!), shape.frameLine[f]!),
  );
  const shapeMap = new Int32Array(shape.nodeCount);
  for (let i = 1; i < shape.nodeCount; i++)
    shapeMap[i] = builder.child(shapeMap[shape.parent[i]!]!, frameMap[shape.frame[i]!]!);
  // Per node of `tree`: the shape node it lands on, or, past the kept frames, the kept ancestor whose (other) it joins.
  const at = new Int32Array(tree.nodeCount);
  const inOther = new Uint8Array(tree.nodeCount);
  for (let i = 1; i < tree.nodeCount; i++) {
    const p = tree.parent[i]!;
    const f = toShape[tree.frame[i]!]!;
    const kept = inOther[p] || f < 0 ? undefined : child.get(at[p]! * F + f);
    if (kept !== undefined) at[i] = kept;
    else {
      at[i] = at[p]!;
      inOther[i] = 1;
    }
  }
  const otherFrame = builder.frameOf(builder.fn({ name: OTHER_FRAME_NAME, file: '', startLine: 0 }), 0);
  for (let i = 0; i < tree.nodeCount; i++) {
    if (tree.self[i] === 0n) continue;
    const node = inOther[i] ? builder.child(shapeMap[at[i]!]!, otherFrame) : shapeMap[at[i]!]!;
    builder.addSelf(node, tree.self[i]!);
  }
  return builder.build();
}

/**
 * `tree` without the frames `exclude` names and everything under them (same nodes, their values 0): shares are then
 * over what is left. The regression scan leaves profiler artifacts out this way; a differential flame graph does too.
 */
export function withoutFrames(tree: StackTree, exclude: (name: string) => boolean): StackTree {
  const n = tree.nodeCount;
  const drop = new Uint8Array(n);
  let any = false;
  for (let i = 1; i < n; i++) {
    if (drop[tree.parent[i]!] || exclude(tree.functionOf(i).name)) drop[i] = 1;
    if (drop[i]) any = true;
  }
  if (!any) return tree;
  const self = tree.self.map((v, i) => (drop[i] ? 0n : v));
  const total = self.slice();
  for (let i = n - 1; i > 0; i--) total[tree.parent[i]!]! += total[i]!;
  return new StackTree(
    tree.sampleType,
    tree.period,
    tree.functions,
    tree.frameFunction,
    tree.frameLine,
    tree.parent,
    tree.frame,
    self,
    total,
  );
}
