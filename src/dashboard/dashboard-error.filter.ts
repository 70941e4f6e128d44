import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PeriodError } from '../domain/cost';
import { PagePeriodError } from '../domain/dashboard';
import { LoginRequired } from './dashboard-auth.guard';
import { DashboardPages } from './dashboard-pages';

/**
 * Errors of the pages as pages: a period the picker cannot read (400, naming the parameter), an unknown team or
 * service (404), a refused reader (401), a failure (500, details in the log only). An `apikey` dashboard sends a
 * reader without the key to the login form.
 */
@Catch()
export class DashboardErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Dashboard');

  constructor(private readonly pages: DashboardPages) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (exception instanceof LoginRequired) {
      res.redirect(303, `/login?next=${encodeURIComponent(exception.next)}`);
      return;
    }
    let status = 500;
    let message = 'The page could not be built; the service log says why.';
    if (exception instanceof PagePeriodError || exception instanceof PeriodError) {
      status = 400;
      message = exception.message;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      message = exception.message;
    } else
      this.logger.error(
        `${req.method} ${req.path} failed: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
      );
    const accept = req.accepts(['text/html', 'application/json']);
    if (accept === 'application/json' || req.path.startsWith('/flamegraphs/')) {
      res.status(status).json({ statusCode: status, message });
      return;
    }
    this.pages.send(res, 'error', { title: `Error ${status}`, nav: 'error', status, message }, status);
  }
}
