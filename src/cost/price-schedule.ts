import { createHash } from 'node:crypto';
import type { PriceSettings } from '../domain/cost';

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
