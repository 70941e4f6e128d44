import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe } from 'vitest';

/** The whole shared corpus, next to the repository: CI has it, a fresh clone does not. */
export const SHARED = resolve(__dirname, '../../../../shared');
export const SHARED_PROFILES = join(SHARED, 'profiles');
export const SHARED_REFS = join(SHARED, 'profile-refs');
export const HAS_SHARED = existsSync(SHARED_PROFILES) && existsSync(SHARED_REFS);

/** The subset of it committed in test/fixtures/corpus (same layout, see its README): what the default tests read. */
export const FIXTURE_CORPUS = resolve(__dirname, '../../fixtures/corpus');
export const PROFILES = join(FIXTURE_CORPUS, 'profiles');
export const REFS = join(FIXTURE_CORPUS, 'profile-refs');

/**
 * `describe` for tests over the whole shared corpus: they run when ../shared is present and are reported as
 * skipped, with the reason in the suite name, when it is not.
 */
export function describeShared(name: string, body: () => void): void {
  if (HAS_SHARED) describe(name, body);
  else describe.skip(`${name} (skipped: ${SHARED} is absent)`, body);
}

export interface SourceRow {
  readonly file: string;
  readonly format: string;
}

/** Rows of profiles/SOURCES.tsv for files that are stored (duplicates are listed but not stored). */
export function sources(profiles: string = PROFILES): SourceRow[] {
  if (!existsSync(profiles)) return [];
  const lines = readFileSync(join(profiles, 'SOURCES.tsv'), 'utf8').trim().split('\n').slice(1);
  return lines
    .map((line) => line.split('\t'))
    .filter((cols) => !cols[0]!.startsWith('('))
    .map((cols) => ({ file: cols[0]!, format: cols[5]! }));
}

export interface RefFunction {
  readonly name: string;
  readonly flat: number;
  readonly cum: number;
  readonly inline: boolean;
}

export interface Ref {
  readonly profile: string;
  readonly type: string;
  readonly sampleType: string;
  readonly total: string;
  readonly functions: ReadonlyMap<string, { flat: bigint; cum: bigint }>;
}

/** Parses a ref keeping integers exact (refs may hold values past 2^53). */
export function readRef(path: string): {
  sampleType: string;
  total: bigint;
  functions: { name: string; flat: bigint; cum: bigint; inline: boolean }[];
} {
  const text = readFileSync(path, 'utf8');
  const exact = text.replace(/"(total|flat|cum)":(-?\d+)/g, '"$1":"$2"');
  const json = JSON.parse(exact) as {
    sampleType: string;
    total: string;
    functions: { name: string; flat: string; cum: string; inline: boolean }[];
  };
  return {
    sampleType: json.sampleType,
    total: BigInt(json.total),
    functions: json.functions.map((f) => ({
      name: f.name,
      flat: BigInt(f.flat),
      cum: BigInt(f.cum),
      inline: f.inline,
    })),
  };
}

/** Every ref file under `refs` as (profile path relative to profiles/, sample type name, ref path). */
export function refFiles(refs: string = REFS): { profile: string; type: string; path: string }[] {
  const out: { profile: string; type: string; path: string }[] = [];
  if (!existsSync(refs)) return out;
  for (const origin of readdirSync(refs).sort()) {
    for (const name of readdirSync(join(refs, origin)).sort()) {
      const path = join(refs, origin, name);
      const { sampleType } = JSON.parse(readFileSync(path, 'utf8')) as { sampleType: string };
      const type = sampleType.slice(0, sampleType.indexOf('/'));
      const suffix = `.${type}.top.json`;
      if (!name.endsWith(suffix)) throw new Error(`ref ${name} does not end with ${suffix}`);
      out.push({ profile: `${origin}/${name.slice(0, -suffix.length)}`, type, path });
    }
  }
  return out;
}
