/**
 * The Group tree: parents from `spec.parent`, completed by `spec.children`, checked for unknown
 * references, conflicting parents and cycles. Works on keys only so it is easy to test alone.
 */

/** A group as declared: its own key plus the (already resolved) keys it names. */
export interface GroupLinks {
  readonly key: string;
  /** Resolved key of `spec.parent`, null when absent. */
  readonly parent: string | null;
  /** Resolved keys of `spec.children`. */
  readonly children: readonly string[];
}

export type TreeProblem =
  | {
      readonly kind: 'conflicting-parent';
      readonly group: string;
      readonly child: string;
      readonly childIndex: number;
      readonly declaredParent: string;
    }
  | { readonly kind: 'cycle'; readonly group: string; readonly cycle: readonly string[] };

/**
 * Returns every group's parent key (null for roots). A child listed by a group inherits it as its
 * parent when it names none itself; a child that names a different parent is a conflict. Every
 * cycle is reported once, at its smallest key.
 */
export function buildGroupTree(groups: readonly GroupLinks[]): {
  parents: Map<string, string | null>;
  problems: TreeProblem[];
} {
  const parents = new Map<string, string | null>(groups.map((g) => [g.key, g.parent]));
  const problems: TreeProblem[] = [];
  for (const group of groups) {
    group.children.forEach((child, childIndex) => {
      const declared = parents.get(child) ?? null;
      if (declared === null) parents.set(child, group.key);
      else if (declared !== group.key)
        problems.push({ kind: 'conflicting-parent', group: group.key, child, childIndex, declaredParent: declared });
    });
  }
  problems.push(...findCycles(parents));
  return { parents, problems };
}

function findCycles(parents: ReadonlyMap<string, string | null>): TreeProblem[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const problems: TreeProblem[] = [];
  for (const start of [...parents.keys()].sort()) {
    const path: string[] = [];
    let node: string | null = start;
    while (node !== null && state.get(node) === undefined) {
      state.set(node, 'visiting');
      path.push(node);
      node = parents.get(node) ?? null;
    }
    if (node !== null && state.get(node) === 'visiting') {
      const cycle = path.slice(path.indexOf(node));
      const first = [...cycle].sort()[0] as string;
      problems.push({ kind: 'cycle', group: first, cycle });
    }
    for (const visited of path) state.set(visited, 'done');
  }
  return problems;
}

/** The chain of ancestors of `key`, nearest first (excluding `key`). The tree must be acyclic. */
export function ancestorsOf(key: string, parents: ReadonlyMap<string, string | null>): string[] {
  const out: string[] = [];
  let node = parents.get(key) ?? null;
  while (node !== null && !out.includes(node)) {
    out.push(node);
    node = parents.get(node) ?? null;
  }
  return out;
}
