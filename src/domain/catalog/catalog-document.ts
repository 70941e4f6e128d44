import { isMap, isScalar, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { yamlKeyOffset } from '../yaml-key-offset';
import type { CatalogFile, CatalogProblem } from './catalog.types';

/**
 * The kinds that matter to cost; every document of every file is read (and a broken one reported), and the other
 * Backstage kinds (User, API, Resource, Domain, Template, ...) are then ignored. `Location` is read to follow its
 * targets.
 */
export const CATALOG_KINDS = ['Component', 'Group', 'System', 'Location'] as const;
export type CatalogKind = (typeof CATALOG_KINDS)[number];

/** One entity document as written, with a way to find the line of any of its fields. */
export interface RawEntity {
  readonly file: string;
  readonly kind: CatalogKind;
  /** The document as plain data (yaml's `toJS`). */
  readonly body: Readonly<Record<string, unknown>>;
  /** 1-based line of the field at `path`, or of its nearest existing ancestor. */
  lineOf(path: readonly (string | number)[]): number;
}

export interface ReadDocumentsResult {
  readonly entities: readonly RawEntity[];
  readonly problems: readonly CatalogProblem[];
}

/**
 * Splits every file into its `---` documents and keeps the ones of a catalog kind. Syntax errors,
 * documents that are not mappings and documents without `kind` become problems (with line), so
 * a broken file is reported together with every other problem instead of stopping the load.
 */
export function readCatalogDocuments(files: readonly CatalogFile[]): ReadDocumentsResult {
  const entities: RawEntity[] = [];
  const problems: CatalogProblem[] = [];
  for (const file of files) {
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(file.text, { lineCounter, prettyErrors: false });
    const list = Array.isArray(docs) ? docs : [];
    if (!Array.isArray(docs))
      problems.push({ file: file.path, line: 1, field: '(yaml)', message: 'not a YAML stream' });
    for (const doc of list) readDocument(file.path, doc, lineCounter, entities, problems);
  }
  return { entities, problems };
}

function readDocument(
  file: string,
  doc: Document.Parsed,
  lineCounter: LineCounter,
  entities: RawEntity[],
  problems: CatalogProblem[],
): void {
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      problems.push({ file, line: lineAt(err.pos[0]), field: '(yaml)', message: firstLine(err.message) });
    }
    return;
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return; // empty document
  const docLine = lineAt(doc.contents.range?.[0] ?? doc.range[0]);
  if (!isMap(doc.contents)) {
    problems.push({ file, line: docLine, field: '(document)', message: 'an entity must be a YAML mapping' });
    return;
  }
  const body = doc.toJS() as Record<string, unknown>;
  const kind = body['kind'];
  if (typeof kind !== 'string' || kind.trim() === '') {
    problems.push({ file, line: docLine, field: 'kind', message: 'missing kind' });
    return;
  }
  const canonical = CATALOG_KINDS.find((k) => k.toLowerCase() === kind.toLowerCase());
  if (!canonical) return; // another Backstage kind: not ours to judge
  const lineOf = (path: readonly (string | number)[]): number =>
    lineAt(yamlKeyOffset(doc.contents, path, doc.range[0]));
  entities.push({ file, kind: canonical, body, lineOf });
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
