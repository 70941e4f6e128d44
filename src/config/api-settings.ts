import { z } from 'zod';

/**
 * `api`: the finance API. `rateLimit`: a token bucket per API key (per replica: N replicas allow N times as much),
 * `requestsPerMinute` tokens refilled evenly, up to `burst` at once. `cache`: answers about closed periods kept in memory. `focus`: the names FOCUS exports carry.
 */
export const apiSettingsSchema = z
  .strictObject({
    rateLimit: z
      .strictObject({
        requestsPerMinute: z.number().int().min(1).max(1_000_000).default(600),
        burst: z.number().int().min(1).max(1_000_000).default(100),
      })
      .prefault({}),
    /**
     * Answers about closed periods are kept in memory this long (0: never) and served again to any key with the
     * scope: dashboards and spreadsheets ask the same questions over and over. A re-attribution of a closed period
     * shows after at most this long (clients may cache 300 s anyway, per Cache-Control).
     */
    cache: z
      .strictObject({
        ttlSeconds: z.number().int().min(0).max(3600).default(60),
        maxMegabytes: z.number().int().min(1).max(4096).default(32),
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
