import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { boundedGunzip, DEFAULT_MAX_INFLATED_BYTES, isGzip } from './bounded-gunzip';
import { ProfileDecodeError } from './profile-decode.error';

/** `Profile.sample` in profile.proto. */
const SAMPLE_FIELD = 2;

/**
 * Whether a pprof profile (gzipped or not) holds at least one sample: a scan of its top-level fields, without
 * decoding it. Query servers answer "no data" with a profile, not with nothing: Pyroscope's merge of nothing is a
 * 6-byte placeholder with one empty sample type (pkg/pprof/merge.go `ProfileMerge.Profile`), Parca's a gzipped profile
 * with its sample types; both have no sample, so a source tells "no data" by this, whatever the size.
 * @throws ProfileDecodeError when the bytes are not a protobuf message.
 */
export function pprofHasSamples(bytes: Uint8Array, maxInflatedBytes = DEFAULT_MAX_INFLATED_BYTES): boolean {
  const raw = isGzip(bytes) ? boundedGunzip(bytes, maxInflatedBytes) : bytes;
  const reader = new BinaryReader(raw);
  try {
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === SAMPLE_FIELD && wireType === WireType.LengthDelimited) return true;
      reader.skip(wireType, field);
    }
  } catch (err: unknown) {
    throw new ProfileDecodeError('pprof', `not a protobuf message: ${(err as Error).message}`);
  }
  return false;
}
