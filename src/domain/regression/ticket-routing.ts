import type { Catalog, CatalogGroup, SourcePosition } from '../catalog';

/** Trackers a routing annotation can name. */
export type RouteTracker = 'github' | 'gitlab' | 'jira' | 'redmine' | 'webhook';

/** Backstage annotations that route a ticket (the first three are the ones Backstage's own plugins use). */
export const ROUTING_ANNOTATIONS: ReadonlyArray<readonly [string, RouteTracker]> = [
  ['github.com/project-slug', 'github'],
  ['gitlab.com/project-slug', 'gitlab'],
  ['jira/project-key', 'jira'],
  ['redmine/project', 'redmine'],
  ['flamebill.io/webhook', 'webhook'],
];

export interface Route {
  readonly tracker: RouteTracker;
  readonly project: string;
  /** Where the route came from: `component`, `group:<key>` or `default`. */
  readonly from: string;
  readonly annotation: string | null;
  /** The catalog entity the annotation is on (file and line of its `metadata.name`); absent for the default. */
  readonly position?: SourcePosition;
}

/** Parent links followed at most this far (the parser drops cycles; this only bounds a hand-made catalog). */
const MAX_GROUP_DEPTH = 64;

/**
 * Where a service's tickets go in `catalog`: its Component's routing annotation, else its owner Group's, then the
 * Group's parents' (nearest first), else `fallback`; null when there is none of them (or no such Component and no
 * fallback).
 */
export function routeOfService(
  catalog: Catalog | null,
  service: string,
  fallback: { readonly tracker: RouteTracker; readonly project: string } | undefined,
): Route | null {
  const component = catalog?.components.get(service.toLowerCase()) ?? null;
  const chain: CatalogGroup[] = [];
  for (let key = component?.owner ?? null; key !== null && chain.length < MAX_GROUP_DEPTH;) {
    const group = catalog?.groups.get(key);
    if (!group || chain.includes(group)) break;
    chain.push(group);
    key = group.parent;
  }
  const route = resolveRoute(component, chain, fallback);
  if (!route || route.from === 'default') return route;
  const entity = route.from === 'component' ? component : chain.find((g) => `group:${g.key}` === route.from);
  return entity ? { ...route, position: entity.position } : route;
}

/**
 * Where a service's tickets go: the first routing annotation of its Component, else of its owner Group, then the
 * group's parents (nearest first), else the default; null when there is none of them.
 */
export function resolveRoute(
  component: { readonly annotations: Readonly<Record<string, string>> } | null,
  groups: ReadonlyArray<{ readonly key: string; readonly annotations: Readonly<Record<string, string>> }>,
  fallback: { readonly tracker: RouteTracker; readonly project: string } | undefined,
): Route | null {
  const from = (annotations: Readonly<Record<string, string>>, origin: string): Route | null => {
    for (const [annotation, tracker] of ROUTING_ANNOTATIONS) {
      const project = annotations[annotation]?.trim();
      if (project) return { tracker, project, from: origin, annotation };
    }
    return null;
  };
  if (component) {
    const r = from(component.annotations, 'component');
    if (r) return r;
  }
  for (const g of groups) {
    const r = from(g.annotations, `group:${g.key}`);
    if (r) return r;
  }
  return fallback ? { ...fallback, from: 'default', annotation: null } : null;
}
