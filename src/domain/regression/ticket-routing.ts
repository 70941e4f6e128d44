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
