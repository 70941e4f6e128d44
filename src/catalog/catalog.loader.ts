import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  catalogRevisionId,
  locationTargets,
  parseCatalog,
  type CatalogFile,
  type CatalogParseResult,
  type CatalogProblem,
} from '../domain/catalog';

/** A catalog read from disk: the parse result plus the revision id of exactly these files. */
export type LoadedCatalog = CatalogParseResult & { readonly revision: string; readonly files: readonly string[] };

/** Files read through Location targets at most, so a Location loop or a huge tree cannot stall a load. */
const MAX_FILES = 10_000;

/**
 * Reads every `*.yaml` / `*.yml` file directly in a directory (sorted by name), then, as Backstage does, the files
 * that `Location` entities target (`./components/x.yaml`), transitively, when they are inside the directory; URL
 * targets and paths leading out of it are not followed. A target that does not exist is a problem of that Location.
 * All file-system access of the catalog lives here; errors reading the directory itself propagate, problems inside
 * the files come back with file, line and field.
 */
export class CatalogLoader {
  async load(dir: string): Promise<LoadedCatalog> {
    const root = resolve(dir);
    const names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
      .map((e) => e.name)
      .sort();
    const files: CatalogFile[] = await Promise.all(
      names.map(async (name) => ({ path: join(dir, name), text: await readFile(join(dir, name), 'utf8') })),
    );
    const seen = new Set(files.map((f) => resolve(f.path)));
    const extraProblems: CatalogProblem[] = [];
    let frontier = files;
    while (frontier.length > 0 && seen.size < MAX_FILES) {
      const next: CatalogFile[] = [];
      for (const t of locationTargets(frontier)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(t.target)) continue; // a URL: another repository, not this directory
        const target = resolve(dirname(resolve(t.file)), t.target);
        const rel = relative(root, target);
        if (rel.startsWith('..') || isAbsolute(rel) || seen.has(target)) continue;
        seen.add(target);
        const text = await readTarget(target);
        if (text === null) {
          extraProblems.push({
            file: t.file,
            line: t.line,
            field: t.field,
            message: `target ${t.target} not found in the catalog directory`,
          });
          continue;
        }
        next.push({ path: join(dir, rel), text });
      }
      files.push(...next);
      frontier = next;
    }
    const parsed = parseCatalog(files);
    const problems = [...extraProblems, ...parsed.problems];
    return { ...parsed, problems, revision: catalogRevisionId(files), files: files.map((f) => f.path) };
  }
}

async function readTarget(path: string): Promise<string | null> {
  try {
    if (!(await stat(path)).isFile()) return null;
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}
