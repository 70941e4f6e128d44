import type { CatalogProblem } from './catalog.types';
import type { RawEntity } from './catalog-document';

/** Collects problems against fields of raw entities, with the field's line. */
export class ProblemList {
  readonly items: CatalogProblem[] = [];

  constructor(initial: readonly CatalogProblem[] = []) {
    this.items.push(...initial);
  }

  /** Records `message` against the field at `path` (e.g. `['spec', 'owner']`) of `entity`. */
  add(entity: RawEntity, path: readonly (string | number)[], message: string): void {
    this.items.push({ file: entity.file, line: entity.lineOf(path), field: fieldName(path), message });
  }
}

/** `['spec', 'children', 1]` → `spec.children[1]`. */
export function fieldName(path: readonly (string | number)[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** The value at `path` in an entity body, or undefined when any step is missing. */
export function valueAt(entity: RawEntity, path: readonly string[]): unknown {
  let node: unknown = entity.body;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * A string field: returns the trimmed string, null when absent (or empty when `required` is false),
 * and records a problem when the value is not a string or is required and missing.
 */
export function stringField(
  entity: RawEntity,
  path: readonly string[],
  problems: ProblemList,
  required: boolean,
): string | null {
  const value = valueAt(entity, path);
  if (value === undefined || value === null || value === '') {
    if (required) problems.add(entity, path, `missing ${path.join('.')}`);
    return null;
  }
  if (typeof value !== 'string') {
    problems.add(entity, path, `must be a string, got ${describe(value)}`);
    return null;
  }
  return value.trim();
}

/** A list of strings (absent means empty); non-string items are recorded as problems and skipped. */
export function stringListField(entity: RawEntity, path: readonly string[], problems: ProblemList): string[] {
  const value = valueAt(entity, path);
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(entity, path, `must be a list of strings, got ${describe(value)}`);
    return [];
  }
  const out: string[] = [];
  value.forEach((item, i) => {
    if (typeof item === 'string' && item.trim() !== '') out.push(item.trim());
    else problems.add(entity, [...path, i], `must be a non-empty string, got ${describe(item)}`);
  });
  return out;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}
