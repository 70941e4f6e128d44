import { isMap, isScalar, isSeq, type Node } from 'yaml';

/**
 * Offset in the source text of the deepest field along `path` that exists under `root` (a parsed YAML node): the
 * offset of its key for a mapping entry (a missing value still has a key line), of the item for a sequence entry.
 * `fallback` when `root` has no position (an empty document). Used to name the line of a validation problem.
 */
export function yamlKeyOffset(root: unknown, path: readonly PropertyKey[], fallback: number): number {
  let node = root;
  let offset = (root as Node | null)?.range?.[0] ?? fallback;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === segment);
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      node = node.items[segment];
      offset = (node as Node).range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return offset;
}
