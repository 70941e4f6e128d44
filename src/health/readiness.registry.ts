import { Injectable } from '@nestjs/common';

/** `down` fails GET /readyz (503); `degraded` is shown but keeps it 200; `up` is fine. */
export type ReadinessStatus = 'up' | 'degraded' | 'down';

/** A check's answer: its status plus any details worth showing an operator (JSON-serializable). */
export interface ReadinessReport {
  readonly status: ReadinessStatus;
  readonly [detail: string]: unknown;
}

export type ReadinessCheck = () => ReadinessReport | Promise<ReadinessReport>;

/**
 * Lets any module add a named check to GET /readyz next to `database` and `migrations`. For example
 * the catalog reports its last load error:
 * `registry.register('catalog', () => error ? { status: 'degraded', lastError: error.message } : { status: 'up', revision })`.
 * A check that throws or takes longer than the timeout counts as `down`.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  /** @throws Error when `name` is already registered or is one of the built-in checks. */
  register(name: string, check: ReadinessCheck): void {
    if (this.checks.has(name) || BUILT_IN_CHECKS.has(name))
      throw new Error(`readiness check "${name}" is already registered`);
    this.checks.set(name, check);
  }

  unregister(name: string): void {
    this.checks.delete(name);
  }

  /** Registered checks in registration order. */
  entries(): ReadonlyArray<readonly [string, ReadinessCheck]> {
    return [...this.checks];
  }
}

/** Names the health controller uses itself. */
export const BUILT_IN_CHECKS: ReadonlySet<string> = new Set(['database', 'migrations']);
