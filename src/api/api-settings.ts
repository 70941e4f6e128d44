import { z } from 'zod';

/**
 * `api`: the finance API. `rateLimit`: a token bucket per API key (per replica: N replicas allow N times as much),
 * `requestsPerMinute` tokens refilled evenly, up to `burst` at once.
 */
export const apiSettingsSchema = z
  .strictObject({
    rateLimit: z
      .strictObject({
        requestsPerMinute: z.number().int().min(1).max(1_000_000).default(600),
        burst: z.number().int().min(1).max(1_000_000).default(100),
      })
      .prefault({}),
  })
  .prefault({});

export type ApiSettings = z.output<typeof apiSettingsSchema>;
