/**
 * The service catalog as flamebill uses it: Backstage descriptor entities reduced to what cost
 * attribution needs (who owns a service, how teams nest, which profiler names map to a service).
 * Plain data only, so a catalog can be stored as a revision and compared.
 */

/** Where a value came from in the descriptor files; lines are 1-based. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
}

/** A normalised Backstage entity reference (`kind:namespace/name`, compared case-insensitively). */
export interface EntityRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/**
 * An owner: a `kind: Group` of the files (a team, or an organisation level above teams), or an owner that components
 * name but the files do not define (a `user:` ref, a group from an org provider): then the ref's name is the team,
 * with no email and no parent (`defined: false`).
 */
export interface CatalogGroup {
  /** Lower-cased `group:namespace/name`, the key everything else refers to it by. */
  readonly key: string;
  /** The team id used in attribution output: the name as written, prefixed `namespace/` outside `default`. */
  readonly team: string;
  readonly displayName: string | null;
  readonly email: string | null;
  /** Key of the parent group (from spec.parent, or inferred from a parent's spec.children); null at the root. */
  readonly parent: string | null;
  /**
   * `metadata.annotations` of a Group of the files (issue routing such as `redmine/project`, used when a Component of
   * the group, or of a group under it, has none); empty for an owner known only by references.
   */
  readonly annotations: Readonly<Record<string, string>>;
  readonly position: SourcePosition;
  /** False for an owner only named by references (its position is the first entity naming it). Absent: true. */
  readonly defined?: boolean;
}

/** `kind: System`: a set of components with an owner. */
export interface CatalogSystem {
  readonly key: string;
  readonly name: string;
  /** Key of the owning group. */
  readonly owner: string;
  readonly position: SourcePosition;
}

/** `kind: Component`: one service whose `metadata.name` is the profiler's service name. */
export interface CatalogComponent {
  readonly key: string;
  /** The canonical service name (metadata.name as written). */
  readonly name: string;
  /** Key of the owning group. */
  readonly owner: string;
  /** Key of the system, or null. */
  readonly system: string | null;
  readonly lifecycle: string | null;
  /** Exact aliases from `flamebill.io/service-names` (as written). */
  readonly aliases: readonly string[];
  /** Glob patterns from `flamebill.io/service-names` (picomatch syntax, case-insensitive). */
  readonly patterns: readonly string[];
  /** Issue routing, e.g. `github.com/project-slug`, `jira/project-key`. */
  readonly annotations: Readonly<Record<string, string>>;
  readonly position: SourcePosition;
}

/** A validated catalog. Maps are keyed by lower-cased keys (components by lower-cased name). */
export interface Catalog {
  readonly components: ReadonlyMap<string, CatalogComponent>;
  readonly groups: ReadonlyMap<string, CatalogGroup>;
  readonly systems: ReadonlyMap<string, CatalogSystem>;
}

/** One thing wrong with the descriptor files. */
export interface CatalogProblem {
  readonly file: string;
  readonly line: number;
  /** Dotted path of the offending field, e.g. `spec.owner`, or `(yaml)` for a syntax error. */
  readonly field: string;
  readonly message: string;
}

/** One descriptor file handed to the parser. */
export interface CatalogFile {
  readonly path: string;
  readonly text: string;
}

/**
 * `ok`: the catalog of every entity that is fine, with the problems of the entities that were skipped (or of the
 * links dropped) — Backstage itself skips a bad entity and keeps the rest. Not ok: problems and nothing loaded.
 */
export type CatalogParseResult =
  | { readonly ok: true; readonly catalog: Catalog; readonly problems: readonly CatalogProblem[] }
  | { readonly ok: false; readonly problems: readonly CatalogProblem[] };

/** Formats a problem as `file:line: field: message`, the form used in logs and CLI errors. */
export function formatCatalogProblem(p: CatalogProblem): string {
  return `${p.file}:${p.line}: ${p.field}: ${p.message}`;
}
