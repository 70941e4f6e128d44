import type { DataSource, EntityManager } from 'typeorm';
import type { Catalog, CatalogProblem } from '../domain/catalog';
import { inTransaction } from '../database/transactions';
import { queryRows } from '../database/query-rows';
import { fromCatalogDocument, toCatalogDocument, type CatalogDocument } from './catalog-document.codec';

/** A row of `catalog_revisions`. */
export interface CatalogRevisionRow {
  readonly id: string;
  readonly revision: string;
  readonly status: 'ok' | 'error';
  readonly sourceDir: string;
  readonly files: readonly string[];
  readonly errors: readonly CatalogProblem[];
  readonly loadedAt: Date;
  readonly lastLoadedAt: Date;
}

/** The revision in force, with its catalog. */
export interface GoodRevision extends CatalogRevisionRow {
  readonly status: 'ok';
  readonly catalog: Catalog;
}

/** What one load of the catalog directory produced. */
export type CatalogLoadRecord =
  /** `errors`: the entities skipped (or links dropped) in this otherwise good revision. */
  | {
      readonly status: 'ok';
      readonly revision: string;
      readonly sourceDir: string;
      readonly files: readonly string[];
      readonly catalog: Catalog;
      readonly errors: readonly CatalogProblem[];
    }
  | {
      readonly status: 'error';
      readonly revision: string;
      readonly sourceDir: string;
      readonly files: readonly string[];
      readonly errors: readonly CatalogProblem[];
    };

/** A service seen in cost facts with no catalog entry. */
export interface UnownedServiceRow {
  readonly service: string;
  readonly firstSeenDay: string;
  readonly lastSeenDay: string;
  readonly microdollars: bigint;
}

interface RevisionDbRow {
  id: string;
  revision: string;
  status: 'ok' | 'error';
  source_dir: string;
  files: string[];
  errors: CatalogProblem[];
  document?: CatalogDocument | null;
  loaded_at: Date;
  last_loaded_at: Date;
}

const COLUMNS = `id, revision, status, source_dir, files, errors, loaded_at, last_loaded_at`;

/**
 * `catalog_revisions`, `catalog_services`, `catalog_teams`. A revision is identified by the content digest of
 * the files: loading the same files again only moves `last_loaded_at`. The revision in force is the good
 * revision loaded last; an error revision never replaces it.
 */
export class CatalogRepository {
  private readonly catalogs = new Map<string, Catalog>();

  constructor(private readonly db: DataSource) {}

  /** Stores one load (new revision, or `last_loaded_at` of a known one) with its service and team rows; returns the row. */
  record(load: CatalogLoadRecord): Promise<CatalogRevisionRow> {
    return inTransaction(this.db, async (tx) => {
      const document = load.status === 'ok' ? toCatalogDocument(load.catalog) : null;
      const [row] = await queryRows<RevisionDbRow & { inserted: boolean }>(
        tx,
        `INSERT INTO catalog_revisions (revision, status, source_dir, files, errors, document)
         VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb)
         ON CONFLICT (revision) DO UPDATE SET last_loaded_at = now()
         RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
        [
          load.revision,
          load.status,
          load.sourceDir,
          JSON.stringify(load.files),
          JSON.stringify(load.errors),
          document && JSON.stringify(document),
        ],
      );
      if (!row) throw new Error('catalog revision upsert returned no row');
      if (row.inserted && load.status === 'ok') await this.insertEntities(tx, row.id, load.catalog);
      return toRow(row);
    });
  }

  /** The revision in force (the good revision loaded last), or null when no good catalog was ever loaded. */
  async currentGood(db: DataSource | EntityManager = this.db): Promise<GoodRevision | null> {
    const [row] = await queryRows<RevisionDbRow>(db, `SELECT ${COLUMNS}, document FROM catalog_current_revision`);
    if (!row || !row.document) return null;
    return { ...toRow(row), status: 'ok', catalog: this.catalogOf(row.id, row.document) };
  }

  /** A good revision by id (e.g. the one an attribution work item was planned with), or null when unknown or failed. */
  async goodRevision(id: string, db: DataSource | EntityManager = this.db): Promise<GoodRevision | null> {
    const [row] = await queryRows<RevisionDbRow>(
      db,
      `SELECT ${COLUMNS}, document FROM catalog_revisions WHERE id = $1 AND status = 'ok'`,
      [id],
    );
    if (!row || !row.document) return null;
    return { ...toRow(row), status: 'ok', catalog: this.catalogOf(row.id, row.document) };
  }

  /** The latest failed load when it is newer than the revision in force (the catalog on disk is broken now); else null. */
  async latestError(db: DataSource | EntityManager = this.db): Promise<CatalogRevisionRow | null> {
    const [row] = await queryRows<RevisionDbRow>(
      db,
      `SELECT ${COLUMNS} FROM catalog_revisions e
        WHERE e.status = 'error'
          AND NOT EXISTS (SELECT 1 FROM catalog_revisions g WHERE g.status = 'ok' AND g.last_loaded_at >= e.last_loaded_at)
        ORDER BY e.last_loaded_at DESC, e.id DESC LIMIT 1`,
    );
    return row ? toRow(row) : null;
  }

  /** Every stored revision (good and failed loads), the most recently loaded first. */
  async revisions(limit: number): Promise<CatalogRevisionRow[]> {
    const rows = await queryRows<RevisionDbRow>(
      this.db,
      `SELECT ${COLUMNS} FROM catalog_revisions ORDER BY last_loaded_at DESC, id DESC LIMIT $1`,
      [limit],
    );
    return rows.map(toRow);
  }

  /** Services of a revision as stored in `catalog_services`. */
  async services(revisionId: string): Promise<
    Array<{
      service: string;
      team: string;
      system: string | null;
      lifecycle: string | null;
      aliases: string[];
      patterns: string[];
    }>
  > {
    return queryRows(
      this.db,
      `SELECT service, team, system, lifecycle, aliases, patterns FROM catalog_services WHERE revision_id = $1 ORDER BY service`,
      [revisionId],
    );
  }

  /** Teams of a revision as stored in `catalog_teams`. */
  async teams(
    revisionId: string,
  ): Promise<Array<{ team: string; displayName: string | null; email: string | null; parentTeam: string | null }>> {
    return queryRows(
      this.db,
      `SELECT team, display_name AS "displayName", email, parent_team AS "parentTeam" FROM catalog_teams WHERE revision_id = $1 ORDER BY team`,
      [revisionId],
    );
  }

  /** Services attributed to `__unowned__` in the daily cost rollups, most recently seen first: for someone to claim. */
  async unownedServices(limit = 100): Promise<UnownedServiceRow[]> {
    const rows = await queryRows<{ service: string; first_day: string; last_day: string; microdollars: string }>(
      this.db,
      `SELECT service, min(day)::text AS first_day, max(day)::text AS last_day, sum(microdollars)::text AS microdollars
         FROM cost_service_days WHERE team = '__unowned__'
        GROUP BY service ORDER BY max(day) DESC, sum(microdollars) DESC, service LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      service: r.service,
      firstSeenDay: r.first_day,
      lastSeenDay: r.last_day,
      microdollars: BigInt(r.microdollars),
    }));
  }

  /** Rebuilding maps and compiled patterns per window would cost more than the attribution of a small window. */
  private catalogOf(id: string, document: CatalogDocument): Catalog {
    let catalog = this.catalogs.get(id);
    if (!catalog) {
      catalog = fromCatalogDocument(document);
      this.catalogs.set(id, catalog);
    }
    return catalog;
  }

  private async insertEntities(tx: EntityManager, revisionId: string, catalog: Catalog): Promise<void> {
    const groups = [...catalog.groups.values()];
    await tx.query(
      `INSERT INTO catalog_teams (revision_id, team, group_key, display_name, email, parent_team, annotations)
       SELECT $1, x.team, x.group_key, x.display_name, x.email, x.parent_team, x.annotations
         FROM jsonb_to_recordset($2::jsonb)
           AS x(team text, group_key text, display_name text, email text, parent_team text, annotations jsonb)`,
      [
        revisionId,
        JSON.stringify(
          groups.map((g) => ({
            team: g.team,
            group_key: g.key,
            display_name: g.displayName,
            email: g.email,
            parent_team: g.parent === null ? null : (catalog.groups.get(g.parent)?.team ?? null),
            annotations: g.annotations,
          })),
        ),
      ],
    );
    const services = [...catalog.components.values()].map((c) => ({
      service: c.name,
      component_key: c.key,
      team: catalog.groups.get(c.owner)?.team ?? c.owner,
      system: c.system === null ? null : (catalog.systems.get(c.system)?.name ?? null),
      lifecycle: c.lifecycle,
      aliases: c.aliases,
      patterns: c.patterns,
      annotations: c.annotations,
    }));
    await tx.query(
      `INSERT INTO catalog_services (revision_id, service, component_key, team, system, lifecycle, aliases, patterns, annotations)
       SELECT $1, x.service, x.component_key, x.team, x.system, x.lifecycle,
              ARRAY(SELECT jsonb_array_elements_text(x.aliases)), ARRAY(SELECT jsonb_array_elements_text(x.patterns)), x.annotations
         FROM jsonb_to_recordset($2::jsonb)
           AS x(service text, component_key text, team text, system text, lifecycle text, aliases jsonb, patterns jsonb, annotations jsonb)`,
      [revisionId, JSON.stringify(services)],
    );
  }
}

function toRow(r: RevisionDbRow): CatalogRevisionRow {
  return {
    id: String(r.id),
    revision: r.revision,
    status: r.status,
    sourceDir: r.source_dir,
    files: r.files,
    errors: r.errors,
    loadedAt: r.loaded_at,
    lastLoadedAt: r.last_loaded_at,
  };
}
