import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The shared corpus lives next to the repository; CI always has it, so its absence is a failure, not a skip. */
export const SHARED = resolve(__dirname, '../../../../shared');
export const PROFILES = join(SHARED, 'profiles');
export const REFS = join(SHARED, 'profile-refs');

export function requireShared(): void {
  if (!existsSync(PROFILES) || !existsSync(REFS)) {
    throw new Error(`the shared corpus is missing: expected ${PROFILES} and ${REFS} (../shared from the repository root)`);
  }
}

export interface SourceRow {
  readonly file: string;
  readonly format: string;
}

/** Rows of profiles/SOURCES.tsv for files that are stored (duplicates are listed but not stored). */
export function sources(): SourceRow[] {
  const lines = readFileSync(join(PROFILES, 'SOURCES.tsv'), 'utf8').trim().split('\n').slice(1);
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
export function readRef(path: string): { sampleType: string; total: bigint; functions: { name: string; flat: bigint; cum: bigint; inline: boolean }[] } {
  const text = readFileSync(path, 'utf8');
  const exact = text.replace(/"(total|flat|cum)":(-?\d+)/g, '"$1":"$2"');
  const json = JSON.parse(exact) as { sampleType: string; total: string; functions: { name: string; flat: string; cum: string; inline: boolean }[] };
  return {
    sampleType: json.sampleType,
    total: BigInt(json.total),
    functions: json.functions.map((f) => ({ name: f.name, flat: BigInt(f.flat), cum: BigInt(f.cum), inline: f.inline })),
  };
}

/** Every ref file as (profile path relative to profiles/, sample type name, ref path). */
export function refFiles(): { profile: string; type: string; path: string }[] {
  const out: { profile: string; type: string; path: string }[] = [];
  for (const origin of readdirSync(REFS).sort()) {
    for (const name of readdirSync(join(REFS, origin)).sort()) {
      const path = join(REFS, origin, name);
      const { sampleType } = JSON.parse(readFileSync(path, 'utf8')) as { sampleType: string };
      const type = sampleType.slice(0, sampleType.indexOf('/'));
      const suffix = `.${type}.top.json`;
      if (!name.endsWith(suffix)) throw new Error(`ref ${name} does not end with ${suffix}`);
      out.push({ profile: `${origin}/${name.slice(0, -suffix.length)}`, type, path });
    }
  }
  return out;
}
