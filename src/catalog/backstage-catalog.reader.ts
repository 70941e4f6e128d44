import { catalogRevisionId, parseCatalog, type CatalogFile } from '../domain/catalog';
import type { BackstageCatalogSettings } from '../config/catalog-settings';
import type { LoadedCatalog } from './catalog.loader';

/** The kinds asked for: the ones that matter to cost (every other kind would be ignored anyway). */
const KINDS = ['component', 'group', 'system'] as const;
/** Pages read at most in one load, so a server that keeps answering a next cursor cannot stall it. */
const MAX_PAGES = 10_000;

/**
 * Reads the catalog from a running Backstage, through the catalog API the backend serves under `/api/catalog`
 * (plugins/catalog-backend/src/service/createRouter.ts in backstage/backstage): `GET /entities/by-query` with one
 * `filter=kind=<kind>` per kind (filters are OR-ed) and `limit`, answered `{ items, totalItems, pageInfo: { nextCursor?,
 * prevCursor? } }`; the next page is `?cursor=<nextCursor>` (the cursor carries the query). Each entity becomes one
 * "file" (its JSON, which is YAML) named `<url>#<kind>:<namespace>/<name>`, so the same parser reads it as the files
 * of a directory, and the same entities make the same revision.
 */
export class BackstageCatalogReader {
  constructor(
    private readonly settings: BackstageCatalogSettings,
    private readonly env: Readonly<Record<string, string | undefined>> = process.env,
  ) {}

  /** Where the entities come from, as shown in revisions (`source_dir`). */
  get source(): string {
    return `${this.settings.url.replace(/\/+$/, '')}/api/catalog`;
  }

  async load(signal?: AbortSignal): Promise<LoadedCatalog> {
    const entities = await this.fetchAll(signal);
    const files: CatalogFile[] = entities.map((e) => ({
      path: `${this.source}#${entityName(e)}`,
      text: `${JSON.stringify(e, null, 1)}\n`,
    }));
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { ...parseCatalog(files), revision: catalogRevisionId(files), files: files.map((f) => f.path) };
  }

  private async fetchAll(signal?: AbortSignal): Promise<Record<string, unknown>[]> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.settings.tokenEnv !== undefined) {
      const token = this.env[this.settings.tokenEnv];
      if (!token)
        throw new Error(
          `catalog.backstage.tokenEnv: environment variable ${this.settings.tokenEnv} is not set or empty`,
        );
      headers['authorization'] = `Bearer ${token}`;
    }
    const first = new URLSearchParams([
      ...KINDS.map((k) => ['filter', `kind=${k}`]),
      ['limit', String(this.settings.pageSize)],
    ]);
    const items: Record<string, unknown>[] = [];
    let query: URLSearchParams | null = first;
    for (let page = 0; query !== null; page++) {
      if (page >= MAX_PAGES) throw new Error(`${this.source}: more than ${MAX_PAGES} pages of entities`);
      const url = `${this.source}/entities/by-query?${query.toString()}`;
      const timeout = AbortSignal.timeout(this.settings.timeoutSeconds * 1000);
      const response = await fetch(url, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      const text = await response.text();
      if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}: ${text.slice(0, 300)}`);
      const body = parseBody(text, url);
      items.push(...body.items);
      query = body.nextCursor
        ? new URLSearchParams([
            ['cursor', body.nextCursor],
            ['limit', String(this.settings.pageSize)],
          ])
        : null;
    }
    return items;
  }
}

function parseBody(text: string, url: string): { items: Record<string, unknown>[]; nextCursor: string | undefined } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`${url}: answer is not JSON`);
  }
  const { items, pageInfo } = (doc ?? {}) as { items?: unknown; pageInfo?: { nextCursor?: unknown } };
  if (!Array.isArray(items) || !items.every((i) => typeof i === 'object' && i !== null && !Array.isArray(i))) {
    throw new Error(`${url}: answer has no "items" list of entities`);
  }
  const next = pageInfo?.nextCursor;
  if (next !== undefined && typeof next !== 'string') throw new Error(`${url}: pageInfo.nextCursor is not a string`);
  return { items: items as Record<string, unknown>[], nextCursor: next || undefined };
}

function entityName(e: Record<string, unknown>): string {
  const meta = (e['metadata'] ?? {}) as Record<string, unknown>;
  return `${String(e['kind'] ?? '?').toLowerCase()}:${String(meta['namespace'] ?? 'default')}/${String(meta['name'] ?? '?')}`;
}
