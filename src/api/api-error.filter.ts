import { Catch, HttpException, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import { PeriodError } from '../domain/cost';
import { ApiError, reasonOf, type ApiErrorBody } from './api-error';

/**
 * Answers every error under `/api/` in one shape, `{"statusCode","error","message","param"?}`, whoever threw it (a
 * Nest exception, the period arithmetic's `PeriodError` naming its parameter, an unexpected failure: 500 without
 * details). Other paths keep Nest's default handling (e.g. /ingest's own Pyroscope errors).
 */
@Catch()
export class ApiErrorFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('Api');

  override catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (host.getType() !== 'http' || !req.path.startsWith('/api/')) return super.catch(exception, host);
    const body = toBody(exception);
    if (body.statusCode >= 500)
      this.logger.error(
        `${req.method} ${req.path} failed: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
      );
    if (exception instanceof ApiError)
      for (const [name, value] of Object.entries(exception.headers)) res.setHeader(name, value);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(body.statusCode).type('application/json').send(JSON.stringify(body));
  }
}

function toBody(exception: unknown): ApiErrorBody {
  if (exception instanceof PeriodError)
    return { statusCode: 400, error: reasonOf(400), message: exception.message, param: exception.param };
  if (!(exception instanceof HttpException))
    return { statusCode: 500, error: reasonOf(500), message: 'internal error (see the service log)' };
  const status = exception.getStatus();
  const response = exception.getResponse();
  const fields = typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
  const raw = fields.message ?? (typeof response === 'string' ? response : exception.message);
  const message = Array.isArray(raw) ? raw.join('; ') : String(raw);
  const param = typeof fields.param === 'string' ? fields.param : undefined;
  return { statusCode: status, error: reasonOf(status), message, ...(param === undefined ? {} : { param }) };
}
