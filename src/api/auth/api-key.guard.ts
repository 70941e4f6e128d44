import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { InjectSettings } from '../../config/settings.module';
import type { Settings } from '../../config/settings.schema';
import { ApiError } from '../api-error';
import { AuditService, type AuthenticatedRequest } from '../audit/audit.service';
import type { Scope } from './api-key.repository';
import { API_CLOCK } from './api-clock';
import { ApiKeyService } from './api-key.service';
import { ReaderSessionService } from './reader-session.service';
import { RateLimiter } from './rate-limiter';
import { SCOPES_KEY } from './scopes.decorator';

export { API_CLOCK };

const PROTECTED = '/api/v1/';

/**
 * Every route under `/api/v1/` needs an API key (`Authorization: Bearer <key>`) holding the route's scope (`@RequireScope`,
 * default `read`); other routes (probes, /metrics, /ingest with its tenant tokens, /api/docs) are not its business.
 * No key or an unknown or revoked one: 401; rate limit of the key exceeded: 429 with Retry-After; scope missing:
 * 403. Export and admin calls are audited, refused ones too.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly limiter: RateLimiter;

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyService,
    private readonly sessions: ReaderSessionService,
    private readonly audit: AuditService,
    @Inject(API_CLOCK) private readonly clock: () => number,
    @InjectSettings() settings: Settings,
  ) {
    this.limiter = new RateLimiter(settings.api.rateLimit.requestsPerMinute, settings.api.rateLimit.burst);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    if (!req.path.startsWith(PROTECTED)) return true;
    const scope =
      this.reflector.getAllAndOverride<Scope | undefined>(SCOPES_KEY, [context.getHandler(), context.getClass()]) ??
      'read';
    if (scope !== 'read') this.audit.track(req, res, scope);
    const token = bearerToken(req.headers.authorization);
    if (token === null && scope === 'read' && (req.method === 'GET' || req.method === 'HEAD')) {
      // A link followed from a dashboard page (its CSV downloads): the page's reader may read what the page shows.
      const reader = await this.sessions.reader(req);
      if (reader) {
        const wait = this.limiter.take(`${reader.via}:${reader.name}`, this.clock());
        if (wait > 0)
          throw new ApiError(429, `rate limit exceeded; retry in ${wait} s`, undefined, {
            'Retry-After': String(wait),
          });
        return true;
      }
    }
    if (token === null)
      throw new ApiError(401, 'an API key is required: send Authorization: Bearer <key>', undefined, {
        'WWW-Authenticate': 'Bearer',
      });
    const now = this.clock();
    const key = await this.keys.verify(token, new Date(now));
    if (!key)
      throw new ApiError(401, 'the API key is not valid (unknown or revoked)', undefined, {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    req.apiKey = key;
    const wait = this.limiter.take(key.id, now);
    if (wait > 0)
      throw new ApiError(429, `rate limit of this key exceeded; retry in ${wait} s`, undefined, {
        'Retry-After': String(wait),
      });
    if (!key.scopes.includes(scope))
      throw new ApiError(403, `this key lacks the "${scope}" scope (it has ${key.scopes.join(', ')})`);
    return true;
  }
}

function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return m ? (m[1] as string) : null;
}
