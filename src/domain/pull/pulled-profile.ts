import { createHash } from 'node:crypto';
import { foldPprofForCost, type CostFold, type PushFoldOptions } from '../ingest';

/** A pulled profile reduced to what cost needs, with the digest that identifies its bytes. */
export type PulledFold = CostFold & { readonly digest: string };

/**
 * Folds one pulled pprof profile in CPU nanoseconds with the same classification as a push (the
 * profile's own sample types say whether it is CPU time, wall time or something else). The digest is
 * of the bytes as the source served them: a re-pull of the same bytes is recognised as unchanged.
 * @throws ProfileDecodeError when the bytes are not a readable profile.
 */
export function foldPulledProfile(bytes: Uint8Array, options: PushFoldOptions): PulledFold {
  const digest = createHash('sha256').update(bytes).digest('hex');
  return { ...foldPprofForCost(bytes, options), digest };
}
