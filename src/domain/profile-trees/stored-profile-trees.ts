import { classifyPprof } from '../ingest/cost-sample-type';
import type { PprofMeasure } from '../profile';
import {
  buildProfileTrees,
  decodeTree,
  encodeTree,
  mergeTrees,
  scaleTree,
  type ProfileTrees,
  type StackTree,
  type TreeChoice,
} from '../profile/tree';

const CPU_NS = { type: 'cpu', unit: 'nanoseconds' } as const;

/**
 * The tree of a stored profile's raw bytes, in the CPU nanoseconds its row was costed with: the sample type is chosen
 * as ingest chose it (`classifyPprof`: cpu time, else counts × a cpu period, else wall time), scaled to nanoseconds.
 * Formats whose scale ingest took from the push (folded text at a `sampleRate`) are scaled by the row's CPU time over
 * the tree's total, when that divides exactly. Returns null when the tree cannot match the row's CPU time (it would
 * disagree with the facts), so that the caller counts the profile as missing rather than storing a wrong tree.
 */
export function storedProfileTrees(
  raw: Uint8Array,
  cpuNanoseconds: bigint,
  options: { splitVersion: boolean; seriesVersion?: string },
): ProfileTrees | null {
  const trees = buildProfileTrees(raw, {
    choose: chooseAsIngest,
    ...(options.splitVersion
      ? {
          splitLabel: 'version',
          ...(options.seriesVersion !== undefined ? { defaultLabelValue: options.seriesVersion } : {}),
        }
      : {}),
  });
  if (trees === null) return null;
  const value = trees.tree.value;
  if (value === cpuNanoseconds) return trees;
  if (value <= 0n || cpuNanoseconds % value !== 0n) return null;
  const factor = cpuNanoseconds / value;
  const byLabel = new Map<string, StackTree>();
  for (const [v, t] of trees.byLabel) byLabel.set(v, scaleTree(t, factor));
  return { format: trees.format, tree: scaleTree(trees.tree, factor), byLabel };
}

function chooseAsIngest(measure: PprofMeasure): TreeChoice {
  const cls = classifyPprof(measure);
  if (cls.kind === 'other') return { as: CPU_NS };
  return { sampleType: `${cls.sampleType.type}/${cls.sampleType.unit}`, scale: cls.scale, as: CPU_NS };
}

/**
 * Several profiles' trees merged (unpruned): the whole tree (null when no profile had one), one per `version` value
 * when split, how many profiles it covers and how many of them have no tree (no raw bytes, unreadable, or not
 * matching their CPU time). What a window's trees and a push merge's trees are made of.
 */
export interface MergedStoredTrees {
  readonly tree: StackTree | null;
  readonly byVersion: ReadonlyMap<string, StackTree>;
  readonly profiles: number;
  readonly missing: number;
}

/** The stored profile fields tree building reads. */
export interface TreeProfile {
  readonly id: string;
  readonly cpuNanoseconds: bigint | null;
  readonly seriesLabels: Readonly<Record<string, string>>;
}

/**
 * Builds and merges the trees of `profiles` (CPU profiles) from their raw bytes (`raws` by id; absent: missing).
 * `unreadable` decides what a profile whose bytes throw is: it returns true to count it as missing (a decode error),
 * or rethrows.
 */
export function buildStoredTrees(
  profiles: readonly TreeProfile[],
  raws: ReadonlyMap<string, Uint8Array>,
  options: { splitVersion: boolean; unreadable: (profile: TreeProfile, error: unknown) => boolean },
): MergedStoredTrees {
  const parts: MergedStoredTrees[] = [];
  let missing = 0;
  for (const p of profiles) {
    const raw = raws.get(p.id);
    let built: ProfileTrees | null = null;
    if (raw) {
      try {
        const seriesVersion = p.seriesLabels['version'];
        built = storedProfileTrees(raw, p.cpuNanoseconds!, {
          splitVersion: options.splitVersion,
          ...(seriesVersion !== undefined ? { seriesVersion } : {}),
        });
      } catch (error: unknown) {
        if (!options.unreadable(p, error)) throw error;
      }
    }
    if (built) parts.push({ tree: built.tree, byVersion: built.byLabel, profiles: 1, missing: 0 });
    else missing++;
  }
  return mergeStoredTrees([...parts, { tree: null, byVersion: new Map(), profiles: missing, missing }]);
}

/** Merges several `MergedStoredTrees` (e.g. a push merge's and the trees of the pushes after it). */
export function mergeStoredTrees(parts: readonly MergedStoredTrees[]): MergedStoredTrees {
  const whole: StackTree[] = [];
  const versions = new Map<string, StackTree[]>();
  for (const part of parts) {
    if (part.tree) whole.push(part.tree);
    for (const [v, t] of part.byVersion) versions.set(v, [...(versions.get(v) ?? []), t]);
  }
  const merged = (trees: StackTree[]): StackTree => (trees.length === 1 ? trees[0]! : mergeTrees(trees));
  return {
    tree: whole.length === 0 ? null : merged(whole),
    byVersion: new Map([...versions].map(([v, ts]) => [v, merged(ts)])),
    profiles: parts.reduce((n, p) => n + p.profiles, 0),
    missing: parts.reduce((n, p) => n + p.missing, 0),
  };
}

/** `MergedStoredTrees` as stored beside a push merge: encoded trees by version, '' for the whole tree. */
export interface EncodedStoredTrees {
  readonly trees: ReadonlyMap<string, Buffer>;
  readonly profileCount: number;
  readonly missingRaw: number;
}

export function encodeStoredTrees(merged: MergedStoredTrees): EncodedStoredTrees {
  const trees = new Map<string, Buffer>();
  if (merged.tree) trees.set('', Buffer.from(encodeTree(merged.tree)));
  for (const [v, t] of merged.byVersion) trees.set(v, Buffer.from(encodeTree(t)));
  return { trees, profileCount: merged.profiles, missingRaw: merged.missing };
}

export function decodeStoredTrees(stored: EncodedStoredTrees): MergedStoredTrees {
  const whole = stored.trees.get('');
  return {
    tree: whole ? decodeTree(whole) : null,
    byVersion: new Map([...stored.trees].filter(([v]) => v !== '').map(([v, t]) => [v, decodeTree(t)])),
    profiles: stored.profileCount,
    missing: stored.missingRaw,
  };
}
