import { readCatalogDocuments } from './catalog-document';
import type { CatalogFile } from './catalog.types';

/** One target of a `kind: Location` entity, as written, with where it was written. */
export interface LocationTarget {
  readonly file: string;
  readonly line: number;
  /** `spec.target` or `spec.targets[i]`. */
  readonly field: string;
  readonly target: string;
}

/**
 * The targets of the `Location` entities in these files (`spec.target` and `spec.targets`, as Backstage's
 * `LocationSpec` allows). Which ones are followed is the loader's decision: relative paths inside the catalog
 * directory are; URLs (`type: url` to another repository) are not, since flamebill reads a directory.
 */
export function locationTargets(files: readonly CatalogFile[]): LocationTarget[] {
  const out: LocationTarget[] = [];
  for (const entity of readCatalogDocuments(files).entities) {
    if (entity.kind !== 'Location') continue;
    const spec = entity.body['spec'] as Record<string, unknown> | undefined;
    if (!spec || typeof spec !== 'object') continue;
    if (typeof spec['target'] === 'string')
      out.push({
        file: entity.file,
        line: entity.lineOf(['spec', 'target']),
        field: 'spec.target',
        target: spec['target'],
      });
    const list = spec['targets'];
    if (Array.isArray(list)) {
      list.forEach((t, i) => {
        if (typeof t === 'string')
          out.push({
            file: entity.file,
            line: entity.lineOf(['spec', 'targets', i]),
            field: `spec.targets[${i}]`,
            target: t,
          });
      });
    }
  }
  return out;
}
