import { createHash } from 'node:crypto';
import type { CostMode, PriceEntry, PriceSettings } from '../domain/cost';

/** One effective price section (currency, prices, cost modes) as stored in `price_schedules`. */
export interface PriceSchedule {
  /** `sha256:<hex>` of the canonical document: the same settings give the same id on every replica and restart. */
  readonly id: string;
  readonly currency: string;
  /** JSON-safe: bigints as decimal strings, keys sorted. */
  readonly document: unknown;
}

/** The price schedule of validated settings; fact rows reference its id and the price ids inside it. */
export function priceScheduleOf(settings: PriceSettings): PriceSchedule {
  const document = canonical({ currency: settings.currency, prices: settings.prices, cost: settings.cost });
  const id = `sha256:${createHash('sha256').update(JSON.stringify(document)).digest('hex')}`;
  return { id, currency: settings.currency, document };
}

/** Sorted keys, bigints as strings, undefined dropped: a stable JSON form. */
function canonical(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/**
 * The price settings a stored schedule document describes: the inverse of `priceScheduleOf`'s canonical form (its
 * bigints were written as decimal strings). A replica computes a work item with the schedule the item names, not
 * with its own settings, so every replica prices a backfill the same way.
 */
export function priceSettingsOf(document: unknown): PriceSettings {
  const doc = document as {
    currency: string;
    prices: Array<Omit<PriceEntry, 'nanosPerCoreHour'> & { nanosPerCoreHour: string }>;
    cost: { default: StoredCostMode; sources: Record<string, StoredCostMode> };
  };
  return {
    currency: doc.currency,
    prices: doc.prices.map((p) => ({ ...p, nanosPerCoreHour: BigInt(p.nanosPerCoreHour) })),
    cost: {
      default: costModeOf(doc.cost.default),
      sources: Object.fromEntries(Object.entries(doc.cost.sources).map(([k, v]) => [k, costModeOf(v)])),
    },
  };
}

interface StoredCostMode {
  mode: 'measured' | 'allocated';
  samplingFraction: { num: string; den: string };
  fleetCores?: string;
  bill?: { amount: string; per: 'hour' | 'day' | 'month' };
  scope?: { cluster?: string; region?: string };
}

function costModeOf(stored: StoredCostMode): CostMode {
  const samplingFraction = { num: BigInt(stored.samplingFraction.num), den: BigInt(stored.samplingFraction.den) };
  if (stored.mode === 'measured') return { mode: 'measured', samplingFraction };
  return {
    mode: 'allocated',
    samplingFraction,
    ...(stored.fleetCores !== undefined ? { fleetCores: BigInt(stored.fleetCores) } : {}),
    ...(stored.bill !== undefined ? { bill: { amount: BigInt(stored.bill.amount), per: stored.bill.per } } : {}),
    ...(stored.scope !== undefined ? { scope: stored.scope } : {}),
  };
}
