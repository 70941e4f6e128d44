import type { PriceEntry, PriceScope } from './price-settings';

/** OpenCost's default CPU price, $0.031611 per core-hour, used when no configured price applies. */
export const OPENCOST_DEFAULT_NANOS_PER_CORE_HOUR = 31_611_000n;
export const OPENCOST_DEFAULT_PRICE_ID = 'opencost-default';

/** What a price is looked up for: the service (canonical and as profiled) and where it ran. */
export interface PriceTarget {
  /** Names the service is known by (catalog name, profiler name); matched case-insensitively. */
  readonly services: readonly string[];
  readonly cluster?: string;
  readonly region?: string;
}

/** The price applied to a figure, recorded with it. */
export interface AppliedPrice {
  readonly id: string;
  readonly nanosPerCoreHour: bigint;
  /** True when no configured price applied and OpenCost's default was used. */
  readonly isDefault: boolean;
}

const SPECIFICITY: Record<PriceScope['kind'], number> = { service: 3, cluster: 2, region: 1, default: 0 };

/**
 * The price in effect at `atMs` (a window start) for `target`: among prices whose effectiveFrom is
 * at or before `atMs` and whose scope matches, the most specific scope wins (service > cluster >
 * region > default), then the latest effectiveFrom. Falls back to OpenCost's default price.
 */
export function resolvePrice(prices: readonly PriceEntry[], target: PriceTarget, atMs: number): AppliedPrice {
  let best: PriceEntry | null = null;
  for (const price of prices) {
    if (price.effectiveFromMs > atMs || !scopeMatches(price.scope, target)) continue;
    if (best === null || outranks(price, best)) best = price;
  }
  if (best === null)
    return { id: OPENCOST_DEFAULT_PRICE_ID, nanosPerCoreHour: OPENCOST_DEFAULT_NANOS_PER_CORE_HOUR, isDefault: true };
  return { id: best.id, nanosPerCoreHour: best.nanosPerCoreHour, isDefault: false };
}

function outranks(a: PriceEntry, b: PriceEntry): boolean {
  const bySpecificity = SPECIFICITY[a.scope.kind] - SPECIFICITY[b.scope.kind];
  return bySpecificity !== 0 ? bySpecificity > 0 : a.effectiveFromMs > b.effectiveFromMs;
}

function scopeMatches(scope: PriceScope, target: PriceTarget): boolean {
  const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();
  switch (scope.kind) {
    case 'default':
      return true;
    case 'service':
      return target.services.some((s) => same(s, scope.value));
    case 'cluster':
      return same(target.cluster, scope.value);
    case 'region':
      return same(target.region, scope.value);
  }
}
