import { boundedGunzip, DEFAULT_MAX_INFLATED_BYTES, isGzip } from './bounded-gunzip';
import { foldPprof } from './pprof.decoder';
import type { Fold, FoldOptions } from './profile.types';

/**
 * Decodes one profile (pprof protobuf, gzipped or not; folded stacks; V8 .cpuprofile; speedscope JSON) and folds it
 * per function for one sample type. Pure: bytes in, Fold out. Throws ProfileDecodeError on malformed input.
 */
export function foldProfile(bytes: Uint8Array, options: FoldOptions = {}): Fold {
  const raw = isGzip(bytes) ? boundedGunzip(bytes, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES) : bytes;
  return foldPprof(raw, options);
}
