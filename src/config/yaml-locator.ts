import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** A 1-based position in a text file. */
export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

/**
 * Finds where the value at `path` is written in a parsed YAML document, so an error can name the line.
 * With `atKey` it returns the position of the mapping key instead of its value (for unknown keys).
 * When the path is only partly present it returns the deepest node that exists; null when nothing matches.
 */
export function locateYamlPath(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
  atKey = false,
): TextPosition | null {
  let node: unknown = doc.contents;
  let best: Node | null = isNode(node) ? node : null;
  for (const [index, segment] of path.entries()) {
    const isLast = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      if (isLast && atKey && isNode(pair.key)) {
        best = pair.key;
        break;
      }
      node = pair.value;
      best = isNode(node) ? node : isNode(pair.key) ? pair.key : best;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (!isNode(node)) break;
      best = node;
    } else {
      break;
    }
  }
  const offset = best?.range?.[0];
  if (offset === undefined) return null;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}
