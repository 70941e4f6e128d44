import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { looksLikeLegacyPprof } from '../../../../src/domain/profile/legacy/legacy.decoder';
import { boundedGunzip, isGzip } from '../../../../src/domain/profile/bounded-gunzip';
import { buildTree, treeFunctions } from '../../../../src/domain/profile/tree';
import { PROFILES, readRef, refFiles, REFS } from '../corpus';

const haveShared = existsSync(PROFILES) && existsSync(REFS);

/**
 * Every protobuf pprof of ../shared with refs, every sample type: the tree's per-function flat and cum equal
 * `go tool pprof -top -nodefraction=0` (legacy text and binary pprof are not read by the tree builder).
 */
describe.skipIf(!haveShared)('stack trees on the shared corpus (skipped: ../shared is absent)', () => {
  const refs = haveShared ? refFiles() : [];
  const byProfile = new Map<string, { type: string; path: string }[]>();
  for (const r of refs) byProfile.set(r.profile, [...(byProfile.get(r.profile) ?? []), r]);

  for (const [profile, types] of byProfile) {
    it(profile, () => {
      const bytes = readFileSync(join(PROFILES, profile));
      const raw = isGzip(bytes) ? boundedGunzip(bytes) : bytes;
      if (looksLikeLegacyPprof(raw)) return;
      for (const { type, path } of types) {
        const ref = readRef(path);
        const tree = buildTree(bytes, { choose: () => ({ sampleType: type }) })!;
        const expected = new Map(ref.functions.map((f) => [f.name, { flat: f.flat, cum: f.cum }]));
        expect({ type, functions: sorted(treeFunctions(tree)) }).toEqual({ type, functions: sorted(expected) });
      }
    });
  }
});

function sorted(map: ReadonlyMap<string, { flat: bigint; cum: bigint }>): [string, bigint, bigint][] {
  return [...map].map(([name, v]): [string, bigint, bigint] => [name, v.flat, v.cum]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
