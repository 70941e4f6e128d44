import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node } from 'yaml';
import { formatSettingsIssues, priceFileSchema, settingsPath, type PriceSettings } from './price-settings';

export type PriceFileResult = { readonly ok: true; readonly settings: PriceSettings } | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Reads a standalone prices file (`currency`, `prices`, `cost`, as in the settings file). Every
 * problem is returned as `file:line: key: message`. Pure: the caller reads the file.
 */
export function parsePriceFile(text: string, path: string): PriceFileResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) return { ok: false, problems: doc.errors.map((e) => `${path}:${lineAt(e.pos[0])}: (yaml): ${e.message.split('\n')[0]}`) };
  const result = priceFileSchema.safeParse(doc.toJS() ?? {});
  if (result.success) return { ok: true, settings: result.data };
  const messages = formatSettingsIssues(result.error);
  return {
    ok: false,
    problems: result.error.issues.map((issue, i) => `${path}:${lineAt(offsetOf(doc.contents, issue.path))}: ${messages[i] ?? settingsPath(issue.path)}`),
  };
}

/** Offset of the deepest existing key along `path` (1 when the document is empty). */
function offsetOf(root: unknown, path: readonly PropertyKey[]): number {
  let node = root;
  let offset = (root as Node | null)?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === segment);
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      node = node.items[segment];
      offset = (node as Node).range?.[0] ?? offset;
    } else break;
  }
  return offset;
}
