import type { FunctionValue } from '../profile.types';
import type { StackTree } from './stack-tree';

/**
 * Per-function flat and cum of a tree with `go tool pprof -top` semantics at function granularity: a function is
 * its name (file and lines are not part of it, as pprof's function granularity drops them), flat is the self value
 * of its nodes, cum the total of its topmost nodes on every path (a recursive function counts once per sample).
 * Functions whose flat and cum are both 0 are left out, as in a fold.
 */
export function treeFunctions(tree: StackTree): Map<string, FunctionValue> {
  const names = new Map<string, number>();
  const fnName = tree.functions.map((f) => {
    let id = names.get(f.name);
    if (id === undefined) names.set(f.name, (id = names.size));
    return id;
  });
  const flat = new Array<bigint>(names.size).fill(0n);
  const cum = new Array<bigint>(names.size).fill(0n);
  const onPath = new Int32Array(names.size);
  const { start, ids } = tree.children();
  // Iterative depth-first walk: a node is pushed as ~node on exit so that its name leaves the path.
  const stack: number[] = [];
  for (let c = start[0]!; c < start[1]!; c++) stack.push(ids[c]!);
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item < 0) {
      onPath[nameOf(tree, fnName, ~item)]!--;
      continue;
    }
    const name = nameOf(tree, fnName, item);
    flat[name]! += tree.self[item]!;
    if (onPath[name] === 0) cum[name]! += tree.total[item]!;
    onPath[name]!++;
    stack.push(~item);
    for (let c = start[item]!; c < start[item + 1]!; c++) stack.push(ids[c]!);
  }
  const out = new Map<string, FunctionValue>();
  for (const [name, id] of names)
    if (flat[id] !== 0n || cum[id] !== 0n) out.set(name, { flat: flat[id]!, cum: cum[id]! });
  return out;
}

function nameOf(tree: StackTree, fnName: number[], node: number): number {
  return fnName[tree.frameFunction[tree.frame[node]!]!]!;
}
