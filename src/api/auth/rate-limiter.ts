/**
 * A token bucket per key, in memory (per replica). `take` answers how many seconds to wait when the bucket is empty.
 * Buckets of keys idle long enough to be full again are dropped, so memory stays bounded by the keys in use.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    requestsPerMinute: number,
    private readonly burst: number,
  ) {
    this.perMs = requestsPerMinute / 60_000;
  }

  /** Takes one token for `key` at `nowMs`: 0 when allowed, else the whole seconds until one is available. */
  take(key: string, nowMs: number): number {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: nowMs };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (nowMs - bucket.at) * this.perMs);
    bucket.at = nowMs;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 10_000) this.sweep(nowMs);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  private sweep(nowMs: number): void {
    for (const [key, b] of this.buckets)
      if (b.tokens + (nowMs - b.at) * this.perMs >= this.burst) this.buckets.delete(key);
  }
}
