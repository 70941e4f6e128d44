import { describe, expect, it } from 'vitest';
import { IngestRateLimiter } from '../../src/ingest/ingest-rate-limiter';

describe('IngestRateLimiter', () => {
  it('lets a burst through, then refills at the rate, per tenant', () => {
    let now = 1_000_000;
    const limiter = new IngestRateLimiter(1000, 5000, () => now);
    expect(limiter.take('a', 5000)).toEqual({ ok: true });
    expect(limiter.take('a', 1)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take('b', 5000)).toEqual({ ok: true }); // another tenant has its own bucket
    now += 2500;
    expect(limiter.take('a', 3000)).toEqual({ ok: false, retryAfterSeconds: 1 }); // 2500 refilled, 500 missing
    expect(limiter.take('a', 2500)).toEqual({ ok: true });
    now += 60_000;
    expect(limiter.take('a', 5001)).toEqual({ ok: false, retryAfterSeconds: 1 }); // never above the burst
    expect(limiter.take('a', 5000)).toEqual({ ok: true });
    expect(limiter.take('a', 4000)).toEqual({ ok: false, retryAfterSeconds: 4 });
  });

  it('does nothing at rate 0', () => {
    const limiter = new IngestRateLimiter(0, 1, () => 0);
    expect(limiter.take('a', 1e12)).toEqual({ ok: true });
  });
});
