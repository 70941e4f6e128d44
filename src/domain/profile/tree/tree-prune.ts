import { TreeBuilder, type StackTree } from './stack-tree';

/** Name of the node that stands for the pruned children of one parent. */
export const OTHER_FRAME_NAME = '(other)';

/**
 * Keeps the `maxNodes` heaviest nodes (by |total|, grown from the root so the kept set is connected) and collapses
 * the rest: under each kept node, the children not kept become one `(other)` leaf whose value is the sum of their
 * totals. Every kept node's total is unchanged, and so is the tree's. The result has at most `maxNodes` kept nodes
 * plus the root and one `(other)` per kept node with pruned children. The input is not modified.
 */
export function pruneTree(tree: StackTree, maxNodes: number): StackTree {
  const n = tree.nodeCount;
  if (n - 1 <= maxNodes) return tree;
  const kept = heaviestConnected(tree, maxNodes);
  const builder = new TreeBuilder(tree.sampleType, tree.period);
  const fnMap = new Int32Array(tree.functions.length).fill(-1);
  const other = builder.frameOf(builder.fn({ name: OTHER_FRAME_NAME, file: '', startLine: 0 }), 0);
  const map = new Int32Array(n).fill(-1);
  map[0] = 0;
  const pruned = new Array<bigint>(n).fill(0n);
  for (let i = 1; i < n; i++) {
    const p = tree.parent[i]!;
    if (!kept[i]) {
      if (kept[p]) pruned[p]! += tree.total[i]!;
      continue;
    }
    const f = tree.frameFunction[tree.frame[i]!]!;
    if (fnMap[f] === -1) fnMap[f] = builder.fn(tree.functions[f]!);
    map[i] = builder.child(map[p]!, builder.frameOf(fnMap[f]!, tree.frameLine[tree.frame[i]!]!));
  }
  for (let i = 0; i < n; i++) {
    if (map[i] === -1) continue;
    builder.addSelf(map[i]!, tree.self[i]!);
    if (pruned[i] !== 0n) builder.addSelf(builder.child(map[i]!, other), pruned[i]!);
  }
  return builder.build();
}

/** Marks the root and the `count` heaviest nodes reachable through kept parents (a best-first walk). */
function heaviestConnected(tree: StackTree, count: number): Uint8Array {
  const kept = new Uint8Array(tree.nodeCount);
  kept[0] = 1;
  const { start, ids } = tree.children();
  const weight = (i: number) => {
    const t = tree.total[i]!;
    return t < 0n ? -t : t;
  };
  const heap = new MaxHeap(weight);
  for (let c = start[0]!; c < start[1]!; c++) heap.push(ids[c]!);
  for (let k = 0; k < count && heap.size > 0; k++) {
    const i = heap.pop();
    kept[i] = 1;
    for (let c = start[i]!; c < start[i + 1]!; c++) heap.push(ids[c]!);
  }
  return kept;
}

/** A binary max-heap of node ids by bigint weight; ties go to the lower id, so pruning is deterministic. */
class MaxHeap {
  private readonly items: number[] = [];

  constructor(private readonly weight: (i: number) => bigint) {}

  get size(): number {
    return this.items.length;
  }

  push(i: number): void {
    const a = this.items;
    a.push(i);
    let k = a.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.above(a[k]!, a[p]!)) break;
      [a[k], a[p]] = [a[p]!, a[k]!];
      k = p;
    }
  }

  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let m = k;
        if (l < a.length && this.above(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.above(a[r]!, a[m]!)) m = r;
        if (m === k) break;
        [a[k], a[m]] = [a[m]!, a[k]!];
        k = m;
      }
    }
    return top;
  }

  private above(x: number, y: number): boolean {
    const wx = this.weight(x);
    const wy = this.weight(y);
    return wx > wy || (wx === wy && x < y);
  }
}
