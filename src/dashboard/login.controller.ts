import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ReaderSessionService } from '../api/auth/reader-session.service';
import { DashboardErrorFilter } from './dashboard-error.filter';
import { DashboardPages } from './dashboard-pages';

/**
 * `dashboard.auth: apikey`: a form that takes a key with the read scope (`flamebill apikey create NAME --scope read`)
 * and keeps it in an HttpOnly cookie; sign out forgets it. In the other modes the form says there is nothing to do.
 */
@ApiExcludeController()
@Controller()
@UseFilters(DashboardErrorFilter)
export class LoginController {
  constructor(
    private readonly sessions: ReaderSessionService,
    private readonly pages: DashboardPages,
  ) {}

  @Get('login')
  form(@Query('next') next: unknown, @Res() res: Response): void {
    this.pages.send(res, 'login', { title: 'Sign in', nav: 'login', next: safeNext(next), error: null });
  }

  @Post('login')
  @HttpCode(303)
  async login(@Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const next = safeNext(body.next);
    const key = typeof body.key === 'string' ? body.key.trim() : '';
    if (this.sessions.mode !== 'apikey') {
      res.redirect(303, next);
      return;
    }
    if (!(await this.sessions.readKey(key))) {
      this.pages.send(
        res,
        'login',
        { title: 'Sign in', nav: 'login', next, error: 'That key is unknown, revoked, or lacks the read scope.' },
        401,
      );
      return;
    }
    this.sessions.keepKey(req, res, key);
    res.redirect(303, next);
  }

  @Post('logout')
  logout(@Res() res: Response): void {
    this.sessions.forget(res);
    res.redirect(303, '/login');
  }
}

/** Only a path of this site (no `//host`, no scheme): a login form must not send anyone elsewhere. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) ? value : '/';
}
