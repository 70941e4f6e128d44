import { availableParallelism } from 'node:os';
import { z } from 'zod';

const MiB = 1024 * 1024;

/** An environment variable name (the token itself never goes in the settings file). */
const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as FLAMEBILL_INGEST_TOKEN_TEAM_A');

/** One tenant allowed to push: its bearer token is read from `tokenEnv` at start. */
export const ingestTenantSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 letters, digits, _ . or -'),
  tokenEnv: envVarName,
});

/** Per-tenant byte-rate limit (token bucket). */
export const ingestRateLimitSchema = z
  .strictObject({
    /** Sustained bytes per second per tenant; 0 disables the limit. Pyroscope's default is 4 MB/s. */
    bytesPerSecond: z
      .number()
      .int()
      .min(0)
      .default(64 * MiB),
    /** Bucket size: how much a tenant may send at once after being idle. At least `maxBodyBytes`. */
    burstBytes: z
      .number()
      .int()
      .min(1)
      .default(128 * MiB),
  })
  .prefault({});

/**
 * Group commit of pushes (ProfileStoreService): pushes whose folds are ready while `writers` batches are being
 * written wait and are committed together, in one statement, by the next writer.
 */
export const ingestInsertBatchSchema = z
  .strictObject({
    /** Pushes per commit at most; 1 commits every push on its own. */
    maxRows: z.number().int().min(1).max(1000).default(64),
    /** Bytes (`fold` + `raw`) per commit at most; one larger push still goes alone. */
    maxBytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * MiB)
      .default(16 * MiB),
    /** Batches written at once, each on its own pooled connection (keep it below `database.poolSize`). */
    writers: z.number().int().min(1).max(64).default(2),
  })
  .prefault({});

/**
 * `ingest`: the Pyroscope-compatible `POST /ingest`.
 * Label keys used to slice pushed profiles come from the top-level `labels` section, shared with pulls.
 */
export const ingestSettingsSchema = z
  .strictObject({
    /** Larger bodies get 413 before they are read. Pyroscope's default is 32 MiB... per tenant and profile too. */
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * MiB)
      .default(32 * MiB),
    /** Cap on a gzipped profile's inflated size (gzip bombs get 422). */
    maxInflatedBytes: z
      .number()
      .int()
      .min(1024)
      .max(4096 * MiB)
      .default(256 * MiB),
    /** Window length; windows are aligned to the epoch in UTC, so it must divide a day. */
    windowSeconds: z
      .number()
      .int()
      .min(60)
      .max(86_400)
      .default(3600)
      .refine((s) => 86_400 % s === 0, 'must divide 86400 (a day) so windows tile every UTC day'),
    /** Bill wall-clock time as CPU time for profiles that carry no CPU time (stored flagged `wall_only`). */
    countWallAsCpu: z.boolean().default(false),
    /** Tenants allowed to push, each with its token. Empty: no authentication (for a trusted network only). */
    tenants: z.array(ingestTenantSchema).default([]),
    rateLimit: ingestRateLimitSchema,
    /**
     * Requests being read, folded or stored at once; more get 429 so memory stays bounded (each buffers up to
     * maxBodyBytes). It also bounds the queue of pushes waiting for a fold worker.
     */
    maxConcurrentRequests: z.number().int().min(1).max(10_000).default(64),
    /**
     * Worker threads that fold pushes (gunzip, decode, fold, serialize) off the HTTP thread; default: one per core.
     * 0 folds on the HTTP thread (every push then blocks the event loop while it folds).
     */
    workers: z
      .number()
      .int()
      .min(0)
      .max(256)
      .default(() => availableParallelism()),
    /**
     * Bodies up to this size that inflate to at most 64 KiB fold on the HTTP thread: their fold costs less than the
     * hop to a worker (~0.3 ms of CPU and a thread wake-up). 0 sends every body to a worker.
     */
    inlineFoldMaxBytes: z
      .number()
      .int()
      .min(0)
      .max(1024 * 1024)
      .default(16 * 1024),
    insertBatch: ingestInsertBatchSchema,
    /** Keep the pushed bytes in `profiles.raw` (retention nulls them later). */
    keepRaw: z.boolean().default(true),
  })
  .refine((s) => s.rateLimit.bytesPerSecond === 0 || s.rateLimit.burstBytes >= s.maxBodyBytes, {
    message: 'rateLimit.burstBytes must be at least maxBodyBytes, or a largest allowed push could never pass',
    path: ['rateLimit', 'burstBytes'],
  })
  .refine((s) => new Set(s.tenants.map((t) => t.name)).size === s.tenants.length, {
    message: 'tenant names must be unique',
    path: ['tenants'],
  })
  .prefault({});

export type IngestSettings = z.output<typeof ingestSettingsSchema>;
