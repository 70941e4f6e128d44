import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus registry of this application instance (not prom-client's global one, so several
 * apps in one test process do not collide). Register your own metrics on it:
 * `new Counter({ name: 'flamebill_profiles_ingested_total', help: '...', registers: [metrics.registry] })`.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  /** Latency of every HTTP request, by method, route pattern (bounded cardinality) and status code. */
  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition text for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
