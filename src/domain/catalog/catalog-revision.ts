import { createHash } from 'node:crypto';
import type { CatalogFile } from './catalog.types';

/**
 * A content id for a set of descriptor files: sha256 over the files sorted by path (path and text,
 * length-prefixed so no two different sets collide by concatenation). The same files give the same
 * id in any order, so re-loading an unchanged catalog does not create a new revision.
 */
export function catalogRevisionId(files: readonly CatalogFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    for (const part of [file.path, file.text]) {
      const bytes = Buffer.from(part, 'utf8');
      hash.update(`${bytes.length}:`);
      hash.update(bytes);
    }
  }
  return `sha256:${hash.digest('hex')}`;
}
