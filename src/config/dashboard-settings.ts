import { z } from 'zod';

/**
 * `dashboard`: who may read the pages (README, "Dashboard"). `none`: whoever reaches the service (an internal
 * network); `proxy`: an SSO proxy in front (oauth2-proxy, Pomerium) sets `proxy.header` and requests without it are
 * refused; `apikey`: a key with the `read` scope, given once in a login form and kept in an HttpOnly cookie.
 */
export const dashboardSettingsSchema = z
  .strictObject({
    auth: z.enum(['none', 'proxy', 'apikey']).default('none'),
    proxy: z
      .strictObject({
        /** The header the proxy sets to the signed-in user (oauth2-proxy: X-Forwarded-Email with --set-xauthrequest). */
        header: z
          .string()
          .regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name such as X-Forwarded-Email')
          .default('X-Forwarded-Email'),
      })
      .prefault({}),
    /** How long a dashboard session (the cookie its CSV and download links ride on) lasts. */
    sessionHours: z.number().int().min(1).max(720).default(12),
  })
  .prefault({});

export type DashboardSettings = z.output<typeof dashboardSettingsSchema>;
