import { createHash } from 'node:crypto';
import { boundedGunzip, DEFAULT_MAX_INFLATED_BYTES, isGzip } from '../profile/bounded-gunzip';
import { foldProfile } from '../profile/fold-profile';
import type { Fold } from '../profile/profile.types';
import { classifyPprof } from '../ingest/cost-sample-type';
import { foldInNanoseconds } from '../ingest/fold-scale';
import { readPprofHeader } from '../ingest/pprof-header';

export interface PulledFoldOptions {
  readonly labelKeys: readonly string[];
  readonly maxLabelValues: number;
  readonly maxInflatedBytes?: number;
  /** Bill wall-clock time when a profile carries no CPU time (as `ingest.countWallAsCpu` does for pushes). */
  readonly countWallAsCpu: boolean;
}

/** A pulled pprof profile reduced to what cost needs. */
export type PulledFold =
  | { readonly action: 'store'; readonly fold: Fold; readonly cpuNanoseconds: bigint; readonly wallOnly: boolean; readonly digest: string }
  | { readonly action: 'skip'; readonly reason: string; readonly digest: string };

/**
 * Folds one pulled pprof profile in CPU nanoseconds, with the same classification as a push (the
 * profile's own sample types say whether it is CPU time, wall time or something else), so a service
 * costs the same whether its profiles were pushed or pulled.
 * @throws ProfileDecodeError when the bytes are not a readable profile.
 */
export function foldPulledProfile(bytes: Uint8Array, options: PulledFoldOptions): PulledFold {
  const digest = createHash('sha256').update(bytes).digest('hex');
  const raw = isGzip(bytes) ? boundedGunzip(bytes, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES) : bytes;
  const cls = classifyPprof(readPprofHeader(raw));
  if (cls.kind === 'other') return { action: 'skip', reason: `not CPU time: ${cls.description}`, digest };
  if (cls.kind === 'wall' && !options.countWallAsCpu) return { action: 'skip', reason: 'wall-clock profile without CPU time', digest };
  const fold = foldProfile(raw, {
    format: 'pprof',
    sampleType: `${cls.sampleType.type}/${cls.sampleType.unit}`,
    labelKeys: options.labelKeys,
    maxLabelValues: options.maxLabelValues,
  });
  const inNs = foldInNanoseconds(fold, cls.kind, cls.scale);
  return { action: 'store', fold: inNs, cpuNanoseconds: inNs.total, wallOnly: cls.kind === 'wall', digest };
}
