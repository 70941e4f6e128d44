import { LineCounter, parseDocument } from 'yaml';
import { yamlKeyOffset } from '../yaml-key-offset';
import { formatSettingsIssues, priceFileSchema, settingsPath, type PriceSettings } from './price-settings';

export type PriceFileResult =
  | { readonly ok: true; readonly settings: PriceSettings }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Reads a standalone prices file (`currency`, `prices`, `cost`, as in the settings file). Every
 * problem is returned as `file:line: key: message`. Pure: the caller reads the file.
 */
export function parsePriceFile(text: string, path: string): PriceFileResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  if (doc.errors.length > 0)
    return {
      ok: false,
      problems: doc.errors.map((e) => `${path}:${lineAt(e.pos[0])}: (yaml): ${e.message.split('\n')[0]}`),
    };
  const result = priceFileSchema.safeParse(doc.toJS() ?? {});
  if (result.success) return { ok: true, settings: result.data };
  const messages = formatSettingsIssues(result.error);
  return {
    ok: false,
    problems: result.error.issues.map(
      (issue, i) =>
        `${path}:${lineAt(yamlKeyOffset(doc.contents, issue.path, 0))}: ${messages[i] ?? settingsPath(issue.path)}`,
    ),
  };
}
