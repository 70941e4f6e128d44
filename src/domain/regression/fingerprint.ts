import { createHash } from 'node:crypto';
import type { RegressionKind } from './regression.types';

/**
 * The one identity of a regression (Sentry-style grouping): the same function regressing again in the same service,
 * sample type and kind is the same finding, reopened rather than filed anew. Titles never decide. 32 hex digits of
 * SHA-256 over the JSON array of the parts (unambiguous whatever the names contain).
 */
export function regressionFingerprint(service: string, fn: string, sampleType: string, kind: RegressionKind): string {
  return createHash('sha256')
    .update(JSON.stringify([service, fn, sampleType, kind]))
    .digest('hex')
    .slice(0, 32);
}
