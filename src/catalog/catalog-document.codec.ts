import type { Catalog, CatalogComponent, CatalogGroup, CatalogSystem } from '../domain/catalog';

/**
 * A validated catalog as stored in `catalog_revisions.document` (JSON): the entity lists, sorted by key so
 * the same catalog always stores the same document. `fromCatalogDocument` rebuilds the maps exactly as
 * the parser keys them (components by lower-cased name, groups and systems by key).
 */
export interface CatalogDocument {
  readonly version: 1;
  readonly components: readonly CatalogComponent[];
  /** `annotations` is absent from documents stored before Groups kept theirs. */
  readonly groups: ReadonlyArray<Omit<CatalogGroup, 'annotations'> & Partial<Pick<CatalogGroup, 'annotations'>>>;
  readonly systems: readonly CatalogSystem[];
}

export function toCatalogDocument(catalog: Catalog): CatalogDocument {
  const byKey = <T extends { key: string }>(items: Iterable<T>) =>
    [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    version: 1,
    components: byKey(catalog.components.values()),
    groups: byKey(catalog.groups.values()),
    systems: byKey(catalog.systems.values()),
  };
}

/** @throws Error when the document is not of a version this build reads. */
export function fromCatalogDocument(document: CatalogDocument): Catalog {
  if (document.version !== 1) throw new Error(`catalog document version ${String(document.version)} is not supported`);
  return {
    components: new Map(document.components.map((c) => [c.name.toLowerCase(), c])),
    groups: new Map(document.groups.map((g) => [g.key, { ...g, annotations: g.annotations ?? {} }])),
    systems: new Map(document.systems.map((s) => [s.key, s])),
  };
}
