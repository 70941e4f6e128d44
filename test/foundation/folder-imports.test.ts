import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../../src');

/** The top-level folder of src/ a file is in ('' for files directly under src/). */
function folderOf(file: string): string {
  const rel = relative(SRC, file).split(sep);
  return rel.length > 1 ? rel[0]! : '';
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.ts$/.test(name) ? [path] : [];
  });
}

/** Edges folder -> folder from relative imports (static, dynamic and `export ... from`). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from\s+|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = folderOf(resolve(dirname(file), match[1]!));
      if (!from || !target || from === target) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(target);
    }
  }
  return graph;
}

/** Every folder cycle, each as the path that closes it. */
function cycles(graph: Map<string, Set<string>>): string[] {
  const found = new Set<string>();
  const visit = (node: string, path: string[]): void => {
    for (const next of graph.get(node) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) {
        const loop = path.slice(at);
        const start = loop.indexOf([...loop].sort()[0]!);
        found.add([...loop.slice(start), ...loop.slice(0, start), loop[start]].join(' -> '));
      } else visit(next, [...path, next]);
    }
  };
  for (const node of graph.keys()) visit(node, [node]);
  return [...found].sort();
}

describe('top-level folders of src/', () => {
  it('import each other without a circle', () => {
    expect(cycles(folderGraph())).toEqual([]);
  });

  it('the check sees a circle when there is one', () => {
    const graph = new Map([
      ['cost', new Set(['jobs'])],
      ['jobs', new Set(['cost', 'config'])],
    ]);
    expect(cycles(graph)).toEqual(['cost -> jobs -> cost']);
  });

  it('nothing under src/jobs names a job', () => {
    for (const file of sourceFiles(join(SRC, 'jobs'))) {
      expect(readFileSync(file, 'utf8'), relative(SRC, file)).not.toMatch(
        /'(pull|attribute|retention|regressions|ticket-delivery|weekly-report)'/,
      );
    }
  });
});
