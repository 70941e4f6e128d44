import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { looksLikeLegacyPprof } from '../../../../src/domain/profile/legacy/legacy.decoder';
import { boundedGunzip, isGzip } from '../../../../src/domain/profile/bounded-gunzip';
import { buildTree, treeFunctions } from '../../../../src/domain/profile/tree';
import { describeShared, PROFILES, readRef, REFS, refFiles, SHARED_PROFILES, SHARED_REFS } from '../corpus';

/**
 * Every protobuf pprof with refs, every sample type: the tree's per-function flat and cum equal
 * `go tool pprof -top -nodefraction=0` (legacy text and binary pprof are not read by the tree builder).
 */
function treeGoldenSuite(profiles: string, refs: string, atLeast: number): void {
  const byProfile = new Map<string, { type: string; path: string }[]>();
  for (const r of refFiles(refs)) byProfile.set(r.profile, [...(byProfile.get(r.profile) ?? []), r]);

  it(`finds at least ${atLeast} profiles with refs`, () => {
    expect(byProfile.size).toBeGreaterThanOrEqual(atLeast);
  });

  for (const [profile, types] of byProfile) {
    it(profile, () => {
      const bytes = readFileSync(join(profiles, profile));
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
}

describe('stack trees: golden on the committed corpus (test/fixtures/corpus)', () => {
  treeGoldenSuite(PROFILES, REFS, 20);
});

describeShared('stack trees: golden on every protobuf pprof of ../shared', () => {
  treeGoldenSuite(SHARED_PROFILES, SHARED_REFS, 100);
});

function sorted(map: ReadonlyMap<string, { flat: bigint; cum: bigint }>): [string, bigint, bigint][] {
  return [...map]
    .map(([name, v]): [string, bigint, bigint] => [name, v.flat, v.cum])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
