import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { catalogRevisionId, parseCatalog, type CatalogFile, type CatalogParseResult } from '../domain/catalog';

/** A catalog read from disk: the parse result plus the revision id of exactly these files. */
export type LoadedCatalog = CatalogParseResult & { readonly revision: string; readonly files: readonly string[] };

/**
 * Reads every `*.yaml` / `*.yml` file directly in a directory (sorted by name) and hands them to the
 * pure parser. All file-system access of the catalog lives here; errors reading the directory
 * propagate, problems inside the files come back as `ok: false` with file, line and field.
 */
export class CatalogLoader {
  async load(dir: string): Promise<LoadedCatalog> {
    const names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
      .map((e) => e.name)
      .sort();
    const files: CatalogFile[] = await Promise.all(names.map(async (name) => ({ path: join(dir, name), text: await readFile(join(dir, name), 'utf8') })));
    return { ...parseCatalog(files), revision: catalogRevisionId(files), files: files.map((f) => f.path) };
  }
}
