import { importNodes, StackTree, TreeBuilder } from './stack-tree';

/** Thrown when trees of different sample types are merged or compared. */
export class TreeSampleTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TreeSampleTypeError';
  }
}

/**
 * Merges trees of one sample type into one: nodes with the same path (function name, file, start line and line at
 * every level) add up exactly. The period is kept when all trees have the same one, else 0n (unknown). Inputs are
 * not modified. Associative and commutative up to node order (compare with `encodeTree`, which is canonical).
 * @throws TreeSampleTypeError when the trees have different sample types.
 */
export function mergeTrees(trees: readonly StackTree[]): StackTree {
  if (trees.length === 0) throw new TreeSampleTypeError('mergeTrees needs at least one tree');
  const sampleType = trees[0]!.sampleType;
  for (const t of trees) {
    if (t.sampleType.type !== sampleType.type || t.sampleType.unit !== sampleType.unit) {
      throw new TreeSampleTypeError(
        `cannot merge a ${t.sampleType.type}/${t.sampleType.unit} tree into ${sampleType.type}/${sampleType.unit}`,
      );
    }
  }
  const builder = new TreeBuilder(sampleType, commonPeriod(trees));
  builder.reserve(trees.reduce((n, t) => n + t.nodeCount, 0));
  for (const t of trees) {
    const map = importNodes(builder, t);
    for (let i = 0; i < t.nodeCount; i++) if (t.self[i] !== 0n) builder.addSelf(map[i]!, t.self[i]!);
  }
  return builder.build();
}

/** Every value of `tree` times `factor` (e.g. sample counts to nanoseconds); the period scales with it. */
export function scaleTree(tree: StackTree, factor: bigint): StackTree {
  if (factor === 1n) return tree;
  return new StackTree(
    tree.sampleType,
    tree.period * factor,
    tree.functions,
    tree.frameFunction,
    tree.frameLine,
    tree.parent,
    tree.frame,
    tree.self.map((v) => v * factor),
    tree.total.map((v) => v * factor),
  );
}

/** The period of the trees when they all have the same one, else 0n (unknown): "all equal" keeps merge associative. */
export function commonPeriod(trees: readonly StackTree[]): bigint {
  const period = trees[0]?.period ?? 0n;
  return trees.every((t) => t.period === period) ? period : 0n;
}
