/** What a finding is now, as stored. */
export type LifecycleState = 'open' | 'resolved' | 'reopened';

/** What a scan does with one fingerprint. */
export type LifecycleAction =
  | { readonly kind: 'open' }
  | { readonly kind: 'reopen' }
  /** Still there and grown past the threshold since the last message: a comment. */
  | { readonly kind: 'grow' }
  /** Still there, not grown enough: figures updated, nothing sent. */
  | { readonly kind: 'stay' }
  | { readonly kind: 'resolve' }
  /** Resolved and still gone: nothing. */
  | { readonly kind: 'none' };

/**
 * The lifecycle of a finding (one fingerprint is one ticket): new → open; seen again → stays (no message) unless its
 * CPU delta grew by `growthToComment` of what was last notified (a comment); gone from a scan of its service →
 * resolved (its ticket closed or commented); back after that → reopened (the same ticket, never a new one).
 */
export function lifecycleAction(
  stored: { readonly state: LifecycleState; readonly notifiedDelta: bigint } | null,
  detectedDelta: bigint | null,
  growthToComment: number,
): LifecycleAction {
  if (detectedDelta === null) {
    if (stored === null || stored.state === 'resolved') return { kind: 'none' };
    return { kind: 'resolve' };
  }
  if (stored === null) return { kind: 'open' };
  if (stored.state === 'resolved') return { kind: 'reopen' };
  const threshold =
    stored.notifiedDelta + (stored.notifiedDelta * BigInt(Math.round(growthToComment * 1_000_000))) / 1_000_000n;
  return detectedDelta > threshold ? { kind: 'grow' } : { kind: 'stay' };
}
