import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldProfile } from '../../../src/domain/profile';
import { describeShared, PROFILES, readRef, REFS, refFiles, SHARED_PROFILES, SHARED_REFS } from './corpus';

/**
 * Every profile with refs, protobuf and legacy alike (the 11 legacy files of google-pprof/ go through
 * src/domain/profile/legacy); a profile whose decoding fails fails its test. Runs on the committed subset
 * always, and on the whole shared corpus when it is there.
 */
function goldenSuite(profiles: string, refsDir: string, minRefs: number): void {
  const refs = refFiles(refsDir);
  const byProfile = new Map<string, { type: string; path: string }[]>();
  for (const r of refs) byProfile.set(r.profile, [...(byProfile.get(r.profile) ?? []), r]);

  it('finds the refs', () => {
    expect(refs.length).toBeGreaterThan(minRefs);
  });

  for (const [profile, types] of byProfile) {
    it(profile, () => {
      const bytes = readFileSync(join(profiles, profile));
      for (const { type, path } of types) {
        const ref = readRef(path);
        const fold = foldProfile(bytes, { sampleType: type });
        expect(`${fold.sampleType.type}/${fold.sampleType.unit}`).toBe(ref.sampleType);
        expect({ type, total: fold.absoluteTotal }).toEqual({ type, total: ref.total });
        const expected = new Map(ref.functions.map((f) => [f.name, { flat: f.flat, cum: f.cum }]));
        expect(expected.size, 'pprof printed two rows with the same name').toBe(ref.functions.length);
        expect({ type, functions: sortedEntries(fold.functions) }).toEqual({
          type,
          functions: sortedEntries(expected),
        });
      }
    });
  }
}

describe('golden: flat/cum equal go tool pprof -top -nodefraction=0 on every ref of test/fixtures/corpus', () => {
  goldenSuite(PROFILES, REFS, 60);
});

describeShared('golden: flat/cum equal go tool pprof -top -nodefraction=0 on every ref of ../shared', () => {
  goldenSuite(SHARED_PROFILES, SHARED_REFS, 200);
});

function sortedEntries(map: ReadonlyMap<string, { flat: bigint; cum: bigint }>): [string, bigint, bigint][] {
  return [...map]
    .map(([name, v]): [string, bigint, bigint] => [name, v.flat, v.cum])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
