import { gunzipSync } from 'node:zlib';
import { ProfileDecodeError } from './profile-decode.error';

/** Default cap on the inflated size of a gzipped profile: larger inputs are refused, not inflated. */
export const DEFAULT_MAX_INFLATED_BYTES = 512 * 1024 * 1024;

const INFLATE_CHUNK_BYTES = 64 * 1024;

/** True when the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Inflates gzip bytes, refusing to produce more than `maxInflatedBytes`. zlib stops as soon as the output passes
 * the cap, so a gzip bomb costs at most the cap in memory, never its full inflated size.
 */
export function boundedGunzip(bytes: Uint8Array, maxInflatedBytes: number = DEFAULT_MAX_INFLATED_BYTES): Uint8Array {
  try {
    // zlib's default 16 KiB output chunks cost a native call each and a final concatenation: 64 KiB chunks inflate
    // a 2.5 MB Go profile in 16.6 ms instead of 20.0 (a 0.9 MB one in 5.5 instead of 6.3).
    return gunzipSync(bytes, { maxOutputLength: maxInflatedBytes, chunkSize: INFLATE_CHUNK_BYTES });
  } catch (err: unknown) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new ProfileDecodeError(
        'gzip',
        `inflated size exceeds the limit of ${maxInflatedBytes} bytes (gzip bomb or oversized profile)`,
      );
    }
    throw new ProfileDecodeError('gzip', `corrupt gzip stream: ${(err as Error).message}`);
  }
}
