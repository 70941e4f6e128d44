import type { EntityRef } from './catalog.types';

/** Backstage's default namespace for references that name none. */
export const DEFAULT_NAMESPACE = 'default';

/**
 * Parses a Backstage reference `[kind:][namespace/]name`. Missing parts take `defaultKind` and the
 * `default` namespace, as Backstage does for owner references. Returns null when malformed
 * (empty part, more than one `:` or `/`).
 */
export function parseEntityRef(text: string, defaultKind: string): EntityRef | null {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const kind = colon >= 0 ? trimmed.slice(0, colon) : defaultKind;
  const rest = colon >= 0 ? trimmed.slice(colon + 1) : trimmed;
  const slash = rest.indexOf('/');
  const namespace = slash >= 0 ? rest.slice(0, slash) : DEFAULT_NAMESPACE;
  const name = slash >= 0 ? rest.slice(slash + 1) : rest;
  if (!kind || !namespace || !name || name.includes('/') || name.includes(':')) return null;
  return { kind, namespace, name };
}

/** The case-insensitive key of a reference: `kind:namespace/name`, lower-cased. */
export function entityKey(ref: EntityRef): string {
  return `${ref.kind}:${ref.namespace}/${ref.name}`.toLowerCase();
}

/** Backstage's rule for `metadata.name`: 1-63 characters of `[A-Za-z0-9]` joined by single `-`, `_` or `.`. */
export function isValidEntityName(name: string): boolean {
  return name.length <= 63 && /^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$/.test(name);
}
