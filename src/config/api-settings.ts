import { z } from 'zod';

/**
 * `api`: the finance API. `rateLimit`: a token bucket per API key (per replica: N replicas allow N times as much),
 * `requestsPerMinute` tokens refilled evenly, up to `burst` at once. `focus`: the names FOCUS exports carry.
 */
export const apiSettingsSchema = z
  .strictObject({
    rateLimit: z
      .strictObject({
        requestsPerMinute: z.number().int().min(1).max(1_000_000).default(600),
        burst: z.number().int().min(1).max(1_000_000).default(100),
      })
      .prefault({}),
    /** The parties a FOCUS export names (docs/api.md, "FOCUS export"). */
    focus: z
      .strictObject({
        billingAccountId: z.string().min(1).max(200).default('flamebill'),
        billingAccountName: z.string().min(1).max(200).default('flamebill'),
        providerName: z.string().min(1).max(200).default('flamebill'),
        publisherName: z.string().min(1).max(200).default('flamebill'),
        invoiceIssuerName: z.string().min(1).max(200).default('flamebill'),
        serviceName: z.string().min(1).max(200).default('Profiled CPU'),
      })
      .prefault({}),
  })
  .prefault({});

export type ApiSettings = z.output<typeof apiSettingsSchema>;
