import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { LoadBody } from '../ingest-load';

/**
 * Load bodies from real CPU profiles: each push of file i goes to service `load-<i>`, with a `pod` label unique to the
 * request (so every push has its own digest and is stored, as pushes from many pods are) and a `from` inside the
 * hour that starts at `baseFromSeconds` (so they share one window, the worst case for window contention).
 */
export function pushBodies(paths: readonly string[], baseFromSeconds: number): LoadBody[] {
  return paths.map((path, i) => ({
    label: basename(path),
    body: readFileSync(path),
    contentType: 'application/octet-stream',
    query: (seq: number) =>
      new URLSearchParams({
        name: `load-${i}.cpu{pod=pod-${seq},env=bench}`,
        from: String(baseFromSeconds + (seq % 3000)),
        until: String(baseFromSeconds + (seq % 3000) + 10),
        format: 'pprof',
        spyName: 'gospy',
      }).toString(),
  }));
}
