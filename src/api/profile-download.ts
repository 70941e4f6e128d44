import type { Response } from 'express';
import { writeFolded, writePprof, writeSpeedscope, type StackTree } from '../domain/profile/tree';

export type ProfileDownloadFormat = 'pprof' | 'speedscope' | 'folded';

/**
 * Sends a merged profile as a file named after `base` (characters outside `[A-Za-z0-9._-]` become `_`): gzipped pprof
 * (Go's `default.pgo`), speedscope JSON or folded text. The finance API's profiles endpoint and the dashboard's
 * downloads answer with it.
 */
export function sendProfileDownload(res: Response, tree: StackTree, base: string, format: ProfileDownloadFormat): void {
  const file = base.replace(/[^A-Za-z0-9._-]+/g, '_');
  switch (format) {
    case 'pprof':
      res.setHeader('Content-Disposition', `attachment; filename="${file}.pb.gz"`);
      res.type('application/octet-stream').send(Buffer.from(writePprof(tree))); // gzipped by the writer
      return;
    case 'speedscope':
      res.setHeader('Content-Disposition', `attachment; filename="${file}.speedscope.json"`);
      res.type('application/json').send(JSON.stringify(writeSpeedscope(tree, file)));
      return;
    case 'folded':
      res.setHeader('Content-Disposition', `attachment; filename="${file}.folded.txt"`);
      res.type('text/plain').send(writeFolded(tree));
      return;
  }
}
