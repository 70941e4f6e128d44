import { importNodes, TreeBuilder, type StackTree, type TreeFunction } from './stack-tree';
import { TreeSampleTypeError } from './tree-merge';

/** How a node changed between a base and a current tree, judged on its share of each tree's total. */
export type NodeChange = 'grew' | 'shrank' | 'same' | 'new' | 'gone';

/**
 * Two trees aligned by path (the union of their nodes, parent first; node 0 the root): what a differential flame
 * graph draws. Values are exact; shares (`shareOf`, `shareDelta`) are numbers for display, while `change` compares
 * shares exactly (cross-multiplied bigints), so a tree diffed against itself is `same` everywhere.
 */
export interface TreeDiff {
  readonly functions: readonly TreeFunction[];
  readonly parent: Int32Array;
  /** Function index and line of each node (-1 and 0 for the root). */
  readonly nodeFunction: Int32Array;
  readonly nodeLine: Float64Array;
  readonly base: { readonly self: readonly bigint[]; readonly total: readonly bigint[]; readonly value: bigint };
  readonly current: { readonly self: readonly bigint[]; readonly total: readonly bigint[]; readonly value: bigint };
}

/**
 * Aligns `base` and `current` node by node.
 * @throws TreeSampleTypeError when their sample types differ.
 */
export function diffTrees(base: StackTree, current: StackTree): TreeDiff {
  if (base.sampleType.type !== current.sampleType.type || base.sampleType.unit !== current.sampleType.unit) {
    throw new TreeSampleTypeError(
      `cannot diff ${base.sampleType.type}/${base.sampleType.unit} against ${current.sampleType.type}/${current.sampleType.unit}`,
    );
  }
  const builder = new TreeBuilder(base.sampleType);
  const baseMap = importNodes(builder, base);
  const currentMap = importNodes(builder, current);
  const union = builder.build();
  const n = union.nodeCount;
  const side = (tree: StackTree, map: Int32Array) => {
    const self = new Array<bigint>(n).fill(0n);
    for (let i = 0; i < tree.nodeCount; i++) self[map[i]!]! += tree.self[i]!;
    const total = self.slice();
    for (let i = n - 1; i > 0; i--) total[union.parent[i]!]! += total[i]!;
    return { self, total, value: total[0]! };
  };
  return {
    functions: union.functions,
    parent: union.parent,
    nodeFunction: Int32Array.from(union.frame, (f) => (f < 0 ? -1 : union.frameFunction[f]!)),
    nodeLine: Float64Array.from(union.frame, (f) => (f < 0 ? 0 : union.frameLine[f]!)),
    base: side(base, baseMap),
    current: side(current, currentMap),
  };
}

/** How node `i`'s total changed as a share of each tree's total (exact). */
export function nodeChange(diff: TreeDiff, i: number): NodeChange {
  const b = diff.base.total[i]!;
  const c = diff.current.total[i]!;
  if (b === 0n && c === 0n) return 'same';
  if (b === 0n) return 'new';
  if (c === 0n) return 'gone';
  // c / C vs b / B, with B and C non-zero here (a non-zero node makes its tree's total non-zero unless values cancel).
  const lhs = c * diff.base.value;
  const rhs = b * diff.current.value;
  const sign = diff.base.value * diff.current.value < 0n ? -1 : 1;
  if (lhs === rhs) return 'same';
  return (lhs > rhs ? 1 : -1) * sign > 0 ? 'grew' : 'shrank';
}

/** Share of node `i`'s total in each tree (0 for an empty tree), for display. */
export function shareOf(diff: TreeDiff, i: number): { base: number; current: number } {
  return {
    base: ratio(diff.base.total[i]!, diff.base.value),
    current: ratio(diff.current.total[i]!, diff.current.value),
  };
}

/** Current share minus base share of node `i`'s total, for display (exactly 0 when `nodeChange` is `same`). */
export function shareDelta(diff: TreeDiff, i: number): number {
  if (nodeChange(diff, i) === 'same') return 0;
  const s = shareOf(diff, i);
  return s.current - s.base;
}

/** Absolute change of node `i`: current minus base, self and total, exact. */
export function absoluteDelta(diff: TreeDiff, i: number): { self: bigint; total: bigint } {
  return { self: diff.current.self[i]! - diff.base.self[i]!, total: diff.current.total[i]! - diff.base.total[i]! };
}

/** a / b as a number with 1e-12 resolution from exact integer parts (no precision lost to huge bigints). */
function ratio(a: bigint, b: bigint): number {
  if (b === 0n) return 0;
  const scale = 1_000_000_000_000n;
  return Number((a * scale) / b) / 1e12;
}
