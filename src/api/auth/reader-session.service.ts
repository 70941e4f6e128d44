import { Inject, Injectable } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { InjectSettings } from '../../config/settings.module';
import type { Settings } from '../../config/settings.schema';
import { queryRows } from '../../database/query-rows';
import { ApiKeyService } from './api-key.service';
import { API_CLOCK } from './api-clock';

/** Cookie of a dashboard session (`dashboard.auth: none`): `v1.<expiry seconds>.<HMAC>`. */
export const SESSION_COOKIE = 'flamebill_session';
/** Cookie holding the read key given in the login form (`dashboard.auth: apikey`). */
export const KEY_COOKIE = 'flamebill_key';
const SECRET_NAME = 'dashboard-session';

/** Who reads the pages: the proxy's user, the key's name, or `anonymous` on an open dashboard. */
export interface Reader {
  readonly name: string;
  readonly via: 'none' | 'proxy' | 'apikey';
}

/**
 * Who may read the dashboard, and so the read-scope tables its CSV links point at (`/api/v1/...?format=csv`): a browser
 * following a link sends cookies, never an `Authorization` header. `dashboard.auth`:
 * - `none`: anyone; the pages set a signed session cookie, which the API takes as a `read` key, so the API itself stays
 *   closed to clients that never opened a page and hold no key;
 * - `proxy`: the SSO proxy's header (only safe when the service is reachable through the proxy alone);
 * - `apikey`: the key from the login form, kept in an HttpOnly cookie, checked like a bearer key (it must hold `read`).
 */
@Injectable()
export class ReaderSessionService {
  private secret: Promise<Buffer> | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly keys: ApiKeyService,
    @InjectSettings() private readonly settings: Settings,
    @Inject(API_CLOCK) private readonly clock: () => number,
  ) {}

  get mode(): Settings['dashboard']['auth'] {
    return this.settings.dashboard.auth;
  }

  /** The reader of a request, or null when the configured mode refuses it. */
  async reader(req: Request): Promise<Reader | null> {
    switch (this.mode) {
      case 'none':
        return (await this.validSession(cookies(req).get(SESSION_COOKIE))) ? { name: 'anonymous', via: 'none' } : null;
      case 'proxy': {
        const user = req.get(this.settings.dashboard.proxy.header);
        return user && user.trim() !== '' ? { name: user.trim(), via: 'proxy' } : null;
      }
      case 'apikey': {
        const key = await this.readKey(cookies(req).get(KEY_COOKIE));
        return key ? { name: key, via: 'apikey' } : null;
      }
    }
  }

  /** With `none`: a page view opens (or renews) a session, so the page's CSV links work. */
  async openSession(req: Request, res: Response): Promise<void> {
    const current = cookies(req).get(SESSION_COOKIE);
    const renewAfter = this.clock() + (this.settings.dashboard.sessionHours * 3_600_000) / 2;
    if (current && (await this.validSession(current, renewAfter))) return;
    const expires = Math.floor(this.clock() / 1000) + this.settings.dashboard.sessionHours * 3600;
    const value = `v1.${expires}.${await this.sign(`v1.${expires}`)}`;
    res.cookie(SESSION_COOKIE, value, this.cookieOptions(req));
  }

  /** The name of the active key `token` if it holds the read scope, else null. */
  async readKey(token: string | undefined): Promise<string | null> {
    if (!token) return null;
    const key = await this.keys.verify(token, new Date(this.clock()));
    return key && key.scopes.includes('read') ? key.name : null;
  }

  /** `apikey`: keeps the key from the login form (checked by the caller) in an HttpOnly cookie. */
  keepKey(req: Request, res: Response, token: string): void {
    res.cookie(KEY_COOKIE, token, this.cookieOptions(req));
  }

  forget(res: Response): void {
    for (const name of [KEY_COOKIE, SESSION_COOKIE]) res.clearCookie(name, { path: '/' });
  }

  private cookieOptions(req: Request) {
    return {
      httpOnly: true,
      sameSite: 'lax' as const,
      secure: req.secure,
      path: '/',
      maxAge: this.settings.dashboard.sessionHours * 3_600_000,
    };
  }

  private async validSession(value: string | undefined, notBeforeMs = this.clock()): Promise<boolean> {
    const m = /^(v1\.(\d{1,12}))\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
    if (!m || Number(m[2]) * 1000 <= notBeforeMs) return false;
    const expected = Buffer.from(await this.sign(m[1]!));
    const given = Buffer.from(m[3]!);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private async sign(payload: string): Promise<string> {
    return createHmac('sha256', await this.sessionSecret())
      .update(payload)
      .digest('base64url');
  }

  /** One secret for every replica, made by whichever asks first. */
  private sessionSecret(): Promise<Buffer> {
    this.secret ??= (async () => {
      await this.db.query(`INSERT INTO service_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
        SECRET_NAME,
        randomBytes(32),
      ]);
      const [row] = await queryRows<{ secret: Buffer }>(this.db, `SELECT secret FROM service_secrets WHERE name = $1`, [
        SECRET_NAME,
      ]);
      return row!.secret;
    })().catch((error: unknown) => {
      this.secret = null;
      throw error;
    });
    return this.secret;
  }
}

/**
 * The request's cookies. Parsed here rather than with cookie-parser: two cookies of our own, read on few routes, do
 * not justify a middleware on every request (express sets cookies itself, `res.cookie`).
 */
export function cookies(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (out.has(name)) continue;
    try {
      out.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A malformed value is no credential.
    }
  }
  return out;
}
