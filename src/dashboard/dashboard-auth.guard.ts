import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ReaderSessionService } from '../api/auth/reader-session.service';

/** A page of an `apikey` dashboard opened without the key cookie: the login form, then back to the page. */
export class LoginRequired extends Error {
  constructor(readonly next: string) {
    super('sign in with a read key');
  }
}

/**
 * Who may see the pages (`dashboard.auth`): everyone (`none`, with a session cookie for the CSV links), a request the SSO
 * proxy signed in (`proxy`: 401 without its header), or a reader with a key (`apikey`: to the login form without it).
 */
@Injectable()
export class DashboardAuthGuard implements CanActivate {
  constructor(private readonly sessions: ReaderSessionService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    if (this.sessions.mode === 'none') {
      await this.sessions.openSession(req, res);
      res.locals.reader = { name: 'anonymous', via: 'none' };
      return true;
    }
    const reader = await this.sessions.reader(req);
    if (reader) {
      res.locals.reader = reader;
      return true;
    }
    if (this.sessions.mode === 'proxy')
      throw new UnauthorizedException(
        'this dashboard is served behind a sign-in proxy: open it through the proxy (the request lacked its user header)',
      );
    throw new LoginRequired(req.originalUrl);
  }
}
