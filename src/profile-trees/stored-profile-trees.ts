import { classifyPprof } from '../domain/ingest/cost-sample-type';
import {
  buildProfileTrees,
  scaleTree,
  type ProfileTrees,
  type StackTree,
  type TreeChoice,
} from '../domain/profile/tree';
import type { PprofMeasure } from '../domain/profile';

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
