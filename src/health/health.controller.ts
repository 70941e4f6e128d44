import { Controller, Get } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { migrationStatus } from '../database/migrations';
import { ReadinessRegistry, type ReadinessCheck } from './readiness.registry';

/** A probe must answer even when the database hangs: each check gets this long. */
const CHECK_TIMEOUT_MS = 3_000;

/**
 * GET /healthz: the process is up (liveness; never touches the database).
 * GET /readyz: the database answers, every migration of this build is applied, and every registered
 * check is not `down` (readiness). Both answer terminus' JSON: `{status, info, error, details}`
 * with one entry per check; /readyz answers 503 when a check is down.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly registry: ReadinessRegistry,
  ) {}

  @Get('healthz')
  @HealthCheck()
  liveness(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) }),
    ]);
  }

  @Get('readyz')
  @HealthCheck()
  readiness(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.checkDatabase(),
      () => this.checkMigrations(),
      ...this.registry.entries().map(
        ([name, check]) =>
          () =>
            this.runRegistered(name, check),
      ),
    ]);
  }

  private checkDatabase(): PromiseLike<HealthIndicatorResult> {
    return this.indicators
      .check('database')
      .attempt(async () => {
        await this.dataSource.query('SELECT 1');
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }

  private async checkMigrations(): Promise<HealthIndicatorResult> {
    const session = this.indicators.check('migrations');
    try {
      const status = await withTimeout(migrationStatus(this.dataSource), CHECK_TIMEOUT_MS);
      const counts = { applied: status.applied.length, expected: status.expected.length };
      return status.pending.length === 0
        ? session.up(counts)
        : session.down({ ...counts, pending: [...status.pending] });
    } catch (error) {
      return session.down({ message: errorMessage(error) });
    }
  }

  private async runRegistered(name: string, check: ReadinessCheck): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(name);
    try {
      const { status, ...details } = await withTimeout(Promise.resolve(check()), CHECK_TIMEOUT_MS);
      return status === 'up'
        ? session.up(details)
        : status === 'degraded'
          ? session.degraded(details)
          : session.down(details);
    } catch (error) {
      return session.down({ message: errorMessage(error) });
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout of ${ms}ms exceeded`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
