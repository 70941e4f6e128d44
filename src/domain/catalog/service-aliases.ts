import type { RawEntity } from './catalog-document';
import type { CatalogComponent } from './catalog.types';
import type { ProblemList } from './entity-fields';

const ANNOTATION_PATH = ['metadata', 'annotations', 'flamebill.io/service-names'] as const;

/**
 * Rejects alias declarations that would make a service name resolve to two components: an exact
 * alias that is another component's name or another component's alias, and the same glob pattern
 * on two components. Patterns that merely overlap are resolved by precedence (see resolveService).
 */
export function checkAliases(
  components: readonly CatalogComponent[],
  entities: ReadonlyMap<string, RawEntity>,
  problems: ProblemList,
): void {
  const names = new Map(components.map((c) => [c.name.toLowerCase(), c]));
  const aliasOwner = new Map<string, CatalogComponent>();
  const patternOwner = new Map<string, CatalogComponent>();
  for (const c of components) {
    const entity = entities.get(c.key) as RawEntity;
    for (const alias of c.aliases) {
      const lower = alias.toLowerCase();
      const named = names.get(lower);
      const other = aliasOwner.get(lower);
      if (named && named !== c)
        problems.add(entity, [...ANNOTATION_PATH], `alias "${alias}" is the name of Component "${named.name}"`);
      else if (other && other !== c)
        problems.add(
          entity,
          [...ANNOTATION_PATH],
          `ambiguous alias "${alias}": also an alias of Component "${other.name}"`,
        );
      else aliasOwner.set(lower, c);
    }
    for (const pattern of c.patterns) {
      const lower = pattern.toLowerCase();
      const other = patternOwner.get(lower);
      if (other && other !== c)
        problems.add(
          entity,
          [...ANNOTATION_PATH],
          `ambiguous alias pattern "${pattern}": also a pattern of Component "${other.name}"`,
        );
      else patternOwner.set(lower, c);
    }
  }
}
