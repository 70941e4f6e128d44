import picomatch from 'picomatch';
import type { Catalog, CatalogComponent, CatalogGroup } from './catalog.types';

/** How a profiler's service name was matched to a component. */
export type MatchKind = 'name' | 'alias' | 'pattern';

export type ServiceResolution = OwnedService | { readonly owned: false; readonly serviceName: string };

/** A service name that maps to a catalog component. */
export interface OwnedService {
  readonly owned: true;
  readonly service: CatalogComponent;
  readonly team: CatalogGroup;
  readonly match: MatchKind;
  /** The pattern that matched, for `match: 'pattern'`. */
  readonly pattern?: string;
}

interface CompiledPattern {
  readonly pattern: string;
  readonly component: CatalogComponent;
  readonly literalChars: number;
  readonly test: (name: string) => boolean;
}

interface ResolverIndex {
  readonly aliases: ReadonlyMap<string, CatalogComponent>;
  readonly patterns: readonly CompiledPattern[];
}

// Compiling globs costs far more than matching; a catalog is immutable, so compile once per catalog.
const indexes = new WeakMap<Catalog, ResolverIndex>();

/**
 * Finds the component (and owning team) for a profiler's service name, case-insensitively:
 * first a component's own name, then an exact alias, then glob patterns from
 * `flamebill.io/service-names`. When several patterns match, the most specific (most literal
 * characters) wins, then the smaller component name, then the smaller pattern: deterministic.
 * Returns `{ owned: false }` when nothing matches (the service goes to `__unowned__`).
 */
export function resolveService(catalog: Catalog, serviceName: string): ServiceResolution {
  const lower = serviceName.toLowerCase();
  const index = indexFor(catalog);
  const byName = catalog.components.get(lower);
  if (byName) return owned(catalog, byName, 'name');
  const byAlias = index.aliases.get(lower);
  if (byAlias) return owned(catalog, byAlias, 'alias');
  const hit = index.patterns.find((p) => p.test(serviceName));
  if (hit) return { ...owned(catalog, hit.component, 'pattern'), pattern: hit.pattern };
  return { owned: false, serviceName };
}

function owned(catalog: Catalog, service: CatalogComponent, match: MatchKind): OwnedService {
  const team = catalog.groups.get(service.owner);
  if (!team) throw new Error(`catalog invariant broken: owner ${service.owner} of ${service.name} is not a group`);
  return { owned: true, service, team, match };
}

function indexFor(catalog: Catalog): ResolverIndex {
  const cached = indexes.get(catalog);
  if (cached) return cached;
  const aliases = new Map<string, CatalogComponent>();
  const patterns: CompiledPattern[] = [];
  for (const component of catalog.components.values()) {
    for (const alias of component.aliases) aliases.set(alias.toLowerCase(), component);
    for (const pattern of component.patterns) {
      patterns.push({
        pattern,
        component,
        literalChars: literalChars(pattern),
        test: picomatch(pattern, { nocase: true, dot: true }),
      });
    }
  }
  patterns.sort(comparePrecedence);
  const index = { aliases, patterns };
  indexes.set(catalog, index);
  return index;
}

function comparePrecedence(a: CompiledPattern, b: CompiledPattern): number {
  if (a.literalChars !== b.literalChars) return b.literalChars - a.literalChars;
  if (a.component.name !== b.component.name) return a.component.name < b.component.name ? -1 : 1;
  return a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0;
}

/** Characters of a glob that match only themselves: the measure of how specific a pattern is. */
function literalChars(pattern: string): number {
  return pattern.replace(/\\./g, 'x').replace(/[*?[\]{}()!+@|]/g, '').length;
}
