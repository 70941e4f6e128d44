/** The answer of a rate limiter: go ahead, or wait this long. */
export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * Per-tenant token buckets over request bytes: each tenant may push `bytesPerSecond` on average and up to
 * `burstBytes` at once. Pyroscope limits ingestion per tenant in bytes the same way (its default is 4 MB/s).
 * The clock is passed in so tests control time. `bytesPerSecond` 0 disables limiting.
 */
export class IngestRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly bytesPerSecond: number,
    private readonly burstBytes: number,
    private readonly nowMs: () => number,
  ) {}

  /** Takes `bytes` from the tenant's bucket, or says when enough will be there. Never goes below zero. */
  take(tenant: string, bytes: number): RateDecision {
    if (this.bytesPerSecond === 0) return { ok: true };
    const now = this.nowMs();
    const bucket = this.buckets.get(tenant) ?? { tokens: this.burstBytes, updatedMs: now };
    bucket.tokens = Math.min(this.burstBytes, bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.bytesPerSecond);
    bucket.updatedMs = now;
    this.buckets.set(tenant, bucket);
    if (bucket.tokens >= bytes) {
      bucket.tokens -= bytes;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((bytes - bucket.tokens) / this.bytesPerSecond)) };
  }
}
