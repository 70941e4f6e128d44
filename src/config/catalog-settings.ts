import { z } from 'zod';

/**
 * `catalog.backstage`: read the catalog from a running Backstage instead of `paths.catalogDir`, with its catalog API
 * `GET <url>/api/catalog/entities/by-query` (Components, Groups and Systems, cursor-paged).
 */
export const backstageCatalogSettingsSchema = z.strictObject({
  /** Backstage's base URL (the backend, e.g. http://backstage:7007); `/api/catalog` is appended. */
  url: z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
    message: 'expected an http:// or https:// URL',
  }),
  /** Environment variable holding a token sent as `Authorization: Bearer` (a Backstage static external access token). */
  tokenEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
    .optional(),
  /** How often the catalog is read again. */
  refreshSeconds: z.number().int().min(10).max(86_400).default(300),
  /** Entities per page (Backstage's `limit`). */
  pageSize: z.number().int().min(1).max(10_000).default(500),
  /** Per request. */
  timeoutSeconds: z.number().positive().max(600).default(30),
});

export const catalogSettingsSchema = z
  .strictObject({
    backstage: backstageCatalogSettingsSchema.optional(),
  })
  .prefault({});

export type BackstageCatalogSettings = z.output<typeof backstageCatalogSettingsSchema>;
