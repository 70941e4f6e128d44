import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetricsService } from './metrics.service';

/** The catch-all path this middleware is mounted on (see MetricsModule). */
export const MIDDLEWARE_PATH = '{*path}';

/** What express adds to a request once a route matched. */
type RoutedRequest = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };

/**
 * Times every request from arrival to the last byte. The `route` label is the matched route pattern
 * (`/teams/:team`), never the raw URL, so label cardinality stays bounded; unmatched requests share one label.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: RoutedRequest, res: ServerResponse, next: () => void): void {
    const stopTimer = this.metrics.httpRequestDuration.startTimer();
    res.once('finish', () => {
      const path = req.route?.path;
      // Without a matching route, express leaves this middleware's own catch-all route on the request.
      const pattern =
        typeof path === 'string' && path.replace(/^\//, '') !== MIDDLEWARE_PATH
          ? `${req.baseUrl ?? ''}${path}`
          : '(unmatched)';
      stopTimer({ method: req.method ?? 'UNKNOWN', route: pattern, status_code: String(res.statusCode) });
    });
    next();
  }
}
