import picomatch from 'picomatch';
import { readCatalogDocuments, type RawEntity } from './catalog-document';
import type {
  Catalog,
  CatalogComponent,
  CatalogFile,
  CatalogGroup,
  CatalogParseResult,
  CatalogSystem,
} from './catalog.types';
import { DEFAULT_NAMESPACE, entityKey, isValidEntityName, parseEntityRef } from './entity-ref';
import { ProblemList, stringField, stringListField, valueAt } from './entity-fields';
import { buildGroupTree } from './group-tree';
import { checkAliases } from './service-aliases';

/** Annotation listing the profiler's names for a component: aliases or glob patterns. */
export const SERVICE_NAMES_ANNOTATION = 'flamebill.io/service-names';

/** An entity with its identity read and checked. */
interface Identified {
  readonly entity: RawEntity;
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
}

/**
 * Parses Backstage descriptor files into a Catalog the way Backstage ingests them: a bad entity (bad YAML, invalid
 * name, duplicate, missing owner, ambiguous alias) is reported with file, line and field and skipped, a bad link
 * (unknown system, parent or child, a cycle) is reported and dropped, and the rest loads. Owners are whatever the
 * reference names (`group:`, `user:`, defined in the files or not; see `CatalogGroup`). Never throws on bad input.
 */
export function parseCatalog(files: readonly CatalogFile[]): CatalogParseResult {
  const read = readCatalogDocuments(files);
  const problems = new ProblemList(read.problems);
  const identified = identifyEntities(read.entities, problems);
  const byKind = (kind: string): Identified[] => identified.filter((e) => e.entity.kind === kind);
  const groups = buildGroups(byKind('Group'), problems);
  const systems = buildSystems(byKind('System'), groups, problems);
  const components = buildComponents(byKind('Component'), groups, systems, problems);
  checkAliases([...components.values()], identifiedByKey(byKind('Component')), problems);
  // An entity with an ambiguous alias is skipped too: which service a profile belongs to must not be a guess.
  const ambiguous = new Set(
    problems.items
      .filter((p) => p.field.startsWith('metadata.annotations.flamebill.io/service-names'))
      .map((p) => `${p.file}:${p.line}`),
  );
  for (const [name, c] of components)
    if (
      ambiguous.has(`${c.position.file}:${c.position.line}`) ||
      ambiguous.has(`${c.position.file}:${aliasLine(c, byKind('Component'))}`)
    )
      components.delete(name);
  const sorted = sortProblems(problems);
  if (sorted.length > 0 && components.size === 0 && [...groups.values()].every((g) => g.defined === false))
    return { ok: false, problems: sorted };
  const catalog: Catalog = { components, groups, systems };
  return { ok: true, catalog, problems: sorted };
}

/** The line `checkAliases` reports a component's alias problems at. */
function aliasLine(c: CatalogComponent, list: readonly Identified[]): number {
  const entity = list.find((e) => e.key === c.key)?.entity;
  return entity ? entity.lineOf(['metadata', 'annotations', SERVICE_NAMES_ANNOTATION]) : -1;
}

function identifiedByKey(list: readonly Identified[]): Map<string, RawEntity> {
  return new Map(list.map((e) => [e.key, e.entity]));
}

function sortProblems(problems: ProblemList) {
  return [...problems.items].sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
}

/** Reads name and namespace of every entity; drops (and reports) invalid names and duplicates. */
function identifyEntities(entities: readonly RawEntity[], problems: ProblemList): Identified[] {
  const seen = new Map<string, RawEntity>();
  const out: Identified[] = [];
  for (const entity of entities) {
    const name = stringField(entity, ['metadata', 'name'], problems, true);
    const namespace = stringField(entity, ['metadata', 'namespace'], problems, false) ?? DEFAULT_NAMESPACE;
    if (name === null) continue;
    if (!isValidEntityName(name)) {
      problems.add(
        entity,
        ['metadata', 'name'],
        `invalid name "${name}": use 1-63 letters or digits separated by single - _ or .`,
      );
      continue;
    }
    const key = entityKey({ kind: entity.kind, namespace, name });
    const first = seen.get(key);
    if (first) {
      problems.add(
        entity,
        ['metadata', 'name'],
        `duplicate ${entity.kind} "${name}" (first defined at ${first.file}:${first.lineOf(['metadata', 'name'])})`,
      );
      continue;
    }
    seen.set(key, entity);
    out.push({ entity, key, name, namespace });
  }
  return out;
}

/**
 * Resolves a reference field (owner, parent, child, system) to the key of a known entity.
 * Records "unknown" or "malformed" problems and returns null for them.
 */
function resolveRef(
  entity: RawEntity,
  path: readonly (string | number)[],
  text: string,
  defaultKind: string,
  known: ReadonlyMap<string, unknown>,
  problems: ProblemList,
  label: string,
): string | null {
  const ref = parseEntityRef(text, defaultKind);
  if (!ref) {
    problems.add(entity, path, `malformed entity reference "${text}" (expected [kind:][namespace/]name)`);
    return null;
  }
  const key = entityKey(ref);
  if (!known.has(key)) {
    problems.add(
      entity,
      path,
      `unknown ${label} "${text}" (no ${ref.kind}:${ref.namespace}/${ref.name} in the catalog)`,
    );
    return null;
  }
  return key;
}

function buildGroups(list: readonly Identified[], problems: ProblemList): Map<string, CatalogGroup> {
  const known = new Map(list.map((g) => [g.key, g]));
  const links = list.map((g) => {
    const parentText = stringField(g.entity, ['spec', 'parent'], problems, false);
    const parent =
      parentText === null
        ? null
        : resolveRef(g.entity, ['spec', 'parent'], parentText, 'group', known, problems, 'parent group');
    const children = stringListField(g.entity, ['spec', 'children'], problems)
      .map((text, i) => resolveRef(g.entity, ['spec', 'children', i], text, 'group', known, problems, 'child group'))
      .filter((k): k is string => k !== null);
    return { key: g.key, parent, children };
  });
  const tree = buildGroupTree(links);
  for (const p of tree.problems) {
    const entity = (known.get(p.group) as Identified).entity;
    if (p.kind === 'cycle')
      problems.add(entity, ['spec', 'parent'], `cycle in the group tree: ${[...p.cycle, p.cycle[0]].join(' -> ')}`);
    else
      problems.add(entity, ['spec', 'children', p.childIndex], `"${p.child}" already has parent "${p.declaredParent}"`);
  }
  return new Map(
    list.map((g) => [
      g.key,
      {
        key: g.key,
        team: g.namespace.toLowerCase() === DEFAULT_NAMESPACE ? g.name : `${g.namespace}/${g.name}`,
        displayName: stringField(g.entity, ['spec', 'profile', 'displayName'], problems, false),
        email: stringField(g.entity, ['spec', 'profile', 'email'], problems, false),
        parent: tree.parents.get(g.key) ?? null,
        annotations: readAnnotations(g.entity, problems),
        position: { file: g.entity.file, line: g.entity.lineOf(['metadata', 'name']) },
      },
    ]),
  );
}

/**
 * An owner reference, resolved as Backstage resolves it (`[kind:][namespace/]name`, default kind Group, default
 * namespace `default`): a Group of the files when there is one, else an owner known only by its reference, whose
 * team is the ref's name (`namespace/name` outside the default namespace). Users and groups usually come from an org
 * provider, not from the descriptor files, so an owner the files do not define is normal, not an error.
 */
function resolveOwner(
  entity: RawEntity,
  text: string,
  groups: Map<string, CatalogGroup>,
  problems: ProblemList,
): string | null {
  const ref = parseEntityRef(text, 'group');
  if (!ref || !isValidEntityName(ref.name)) {
    problems.add(entity, ['spec', 'owner'], `malformed entity reference "${text}" (expected [kind:][namespace/]name)`);
    return null;
  }
  const key = entityKey(ref);
  if (groups.has(key)) return key;
  const team = ref.namespace.toLowerCase() === DEFAULT_NAMESPACE ? ref.name : `${ref.namespace}/${ref.name}`;
  // A Group of the files with the same team name is that team (`user:alice` and `group:alice` are one team id).
  const same = [...groups.values()].find((g) => g.team.toLowerCase() === team.toLowerCase());
  if (same) return same.key;
  groups.set(key, {
    key,
    team,
    displayName: null,
    email: null,
    parent: null,
    annotations: {},
    position: { file: entity.file, line: entity.lineOf(['spec', 'owner']) },
    defined: false,
  });
  return key;
}

function buildSystems(
  list: readonly Identified[],
  groups: Map<string, CatalogGroup>,
  problems: ProblemList,
): Map<string, CatalogSystem> {
  const out = new Map<string, CatalogSystem>();
  for (const s of list) {
    const ownerText = stringField(s.entity, ['spec', 'owner'], problems, true);
    const owner = ownerText === null ? null : resolveOwner(s.entity, ownerText, groups, problems);
    if (owner === null) continue;
    out.set(s.key, {
      key: s.key,
      name: s.name,
      owner,
      position: { file: s.entity.file, line: s.entity.lineOf(['metadata', 'name']) },
    });
  }
  return out;
}

function buildComponents(
  list: readonly Identified[],
  groups: Map<string, CatalogGroup>,
  systems: ReadonlyMap<string, CatalogSystem>,
  problems: ProblemList,
): Map<string, CatalogComponent> {
  const out = new Map<string, CatalogComponent>();
  for (const c of list) {
    const ownerText = stringField(c.entity, ['spec', 'owner'], problems, true);
    const owner = ownerText === null ? null : resolveOwner(c.entity, ownerText, groups, problems);
    const systemText = stringField(c.entity, ['spec', 'system'], problems, false);
    const system =
      systemText === null
        ? null
        : resolveRef(c.entity, ['spec', 'system'], systemText, 'system', systems, problems, 'system');
    const annotations = readAnnotations(c.entity, problems);
    const names = splitServiceNames(annotations[SERVICE_NAMES_ANNOTATION] ?? '');
    const lower = c.name.toLowerCase();
    const first = out.get(lower);
    if (first) {
      problems.add(
        c.entity,
        ['metadata', 'name'],
        `duplicate service name "${c.name}" (also Component in ${first.position.file}:${first.position.line}); service names must be unique across namespaces`,
      );
      continue;
    }
    if (owner === null) continue;
    out.set(lower, {
      key: c.key,
      name: c.name,
      owner,
      system,
      lifecycle: stringField(c.entity, ['spec', 'lifecycle'], problems, false),
      aliases: names.filter((n) => !picomatch.scan(n).isGlob),
      patterns: names.filter((n) => picomatch.scan(n).isGlob),
      annotations,
      position: { file: c.entity.file, line: c.entity.lineOf(['metadata', 'name']) },
    });
  }
  return out;
}

function readAnnotations(entity: RawEntity, problems: ProblemList): Record<string, string> {
  const value = valueAt(entity, ['metadata', 'annotations']);
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.add(entity, ['metadata', 'annotations'], 'must be a mapping of strings');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else problems.add(entity, ['metadata', 'annotations', k], `must be a string, got ${typeof v}`);
  }
  return out;
}

/** `flamebill.io/service-names` lists names separated by commas or newlines. */
export function splitServiceNames(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[,\n]/)
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
}
