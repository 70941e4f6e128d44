import { createHash } from 'node:crypto';

/** What identifies one push besides its bytes. */
export interface PushIdentity {
  /** `canonicalIngestName()` of the request: application name and sorted labels. */
  readonly canonicalName: string;
  readonly fromMs: number;
  readonly untilMs: number;
}

/**
 * The digest stored with a pushed profile: sha256 (hex) of the canonical name, the time range and the raw body.
 *
 * A retry of the same request (same name, range and bytes) gets the same digest, so the unique key
 * (source, service, profile type, window, digest) makes it count once. Two pods of one service that send
 * byte-identical bodies (common with folded text) differ in their labels or range and are both kept; a digest of
 * the bytes alone would have silently dropped one of them.
 */
export function pushDigest(identity: PushIdentity, body: Uint8Array): string {
  return createHash('sha256')
    .update(`flamebill-push-v1\n${identity.canonicalName}\n${identity.fromMs}\n${identity.untilMs}\n`)
    .update(body)
    .digest('hex');
}
