import { createHash, timingSafeEqual } from 'node:crypto';
import type { IngestSettings } from '../config/ingest-settings';

/** The tenant name used for rate limiting when authentication is off. */
export const ANONYMOUS_TENANT = 'anonymous';

/** No valid credentials: ingest answers 401. */
export class IngestAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngestAuthError';
  }
}

/** A configured tenant whose token env var is missing or empty: flamebill refuses to start. */
export class IngestTokenMissingError extends Error {
  constructor(tenant: string, envVar: string) {
    super(`ingest.tenants: tenant ${tenant}: environment variable ${envVar} is not set or empty`);
    this.name = 'IngestTokenMissingError';
  }
}

/**
 * Checks push credentials against the configured tenants. Agents send `Authorization: Bearer <token>`
 * (`authToken` in the Node and Go SDKs) or, for Grafana Cloud style setups, `Basic <user:token>` (the password is
 * the token; the user is not checked). Tokens are compared as sha256 digests with a constant-time compare, so
 * neither their length nor their content leaks through timing.
 */
export class IngestAuthenticator {
  private readonly tenants: ReadonlyArray<{ name: string; digest: Buffer }>;

  /** @throws IngestTokenMissingError when a tenant's token variable is unset. */
  constructor(settings: Pick<IngestSettings, 'tenants'>, env: NodeJS.ProcessEnv) {
    this.tenants = settings.tenants.map((t) => {
      const token = env[t.tokenEnv];
      if (!token) throw new IngestTokenMissingError(t.name, t.tokenEnv);
      return { name: t.name, digest: sha256(token) };
    });
  }

  /** True when pushes need a token. */
  get enabled(): boolean {
    return this.tenants.length > 0;
  }

  /**
   * The tenant an Authorization header belongs to; `anonymous` when authentication is off.
   * @throws IngestAuthError when authentication is on and the header is missing or matches no tenant.
   */
  authenticate(authorization: string | undefined): string {
    if (!this.enabled) return ANONYMOUS_TENANT;
    const token = tokenOf(authorization);
    if (token === null) throw new IngestAuthError('missing credentials: send Authorization: Bearer <token>');
    const digest = sha256(token);
    // Compare with every tenant (no early exit) so the time taken does not say which tenant almost matched.
    let match: string | null = null;
    for (const tenant of this.tenants) {
      if (timingSafeEqual(tenant.digest, digest) && match === null) match = tenant.name;
    }
    if (match === null) throw new IngestAuthError('invalid token');
    return match;
  }
}

function tokenOf(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const space = authorization.indexOf(' ');
  if (space < 0) return null;
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (scheme === 'bearer') return value || null;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? null : decoded.slice(colon + 1) || null;
  }
  return null;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
