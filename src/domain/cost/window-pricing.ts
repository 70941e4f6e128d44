import type { AttributionWindow, ServiceWindowInput } from './attribution.types';
import { resolvePrice } from './price-resolver';
import type { CostMode, Fraction, PriceEntry } from './price-settings';
import { div, mul, rational, sub, sum, compare, ZERO, type Rational } from './rational';

const NS_PER_HOUR = 3_600_000_000_000n;
const MS_PER_HOUR = 3_600_000n;
const MS_PER_DAY = 86_400_000n;
/** Prices are nano-units per core-hour; attributed money is micro-units. */
const NANOS_PER_MICRO = 1_000n;
const CORE_SCALE = 1_000_000_000n;

/** One input after catalog resolution: who it belongs to and how it is costed. */
export interface ResolvedPart {
  /** Unique and independent of input order; the tie-breaker for rounding. */
  readonly key: string;
  readonly input: ServiceWindowInput;
  /** Catalog name, or the profiler's name when unowned. */
  readonly service: string;
  /** Key of the owning group, null when unowned. */
  readonly teamKey: string | null;
  /** Team id for output (`__unowned__` when unowned). */
  readonly team: string;
  readonly system: string | null;
  readonly source: string;
  readonly mode: CostMode;
}

/** A part's exact cost in micro-units, before the window's single rounding. */
export interface PricedPart {
  readonly part: ResolvedPart;
  readonly exact: Rational;
  readonly priceId: string;
  readonly defaultPriced: boolean;
}

/** An allocated source's unused capacity, exact. */
export interface IdleLine {
  readonly key: string;
  readonly source: string;
  readonly exact: Rational;
  readonly overcommitted: boolean;
}

/** Core-hours the part represents fleet-wide: CPU ns ÷ 3.6e12, scaled up by the sampling fraction. */
export function coreHours(cpuNanoseconds: bigint, fraction: Fraction): Rational {
  return rational(cpuNanoseconds * fraction.den, NS_PER_HOUR * fraction.num);
}

/** Measured mode: core-hours × the price in effect at the window start for this service and place. */
export function priceMeasuredPart(
  part: ResolvedPart,
  prices: readonly PriceEntry[],
  window: AttributionWindow,
): PricedPart {
  const price = resolvePrice(prices, priceTarget(part), window.startMs);
  const exact = mul(
    coreHours(part.input.cpuNanoseconds, part.mode.samplingFraction),
    rational(price.nanosPerCoreHour, NANOS_PER_MICRO),
  );
  return { part, exact, priceId: price.id, defaultPriced: price.isDefault };
}

function priceTarget(part: ResolvedPart) {
  return {
    services: [part.service, part.input.serviceName],
    ...(part.input.cluster !== undefined ? { cluster: part.input.cluster } : {}),
    ...(part.input.region !== undefined ? { region: part.input.region } : {}),
  };
}

/**
 * Allocated mode for one source: the pool's cost for the window (bill prorated, else fleet cores ×
 * hours × price) is shared by each part's core-hours over max(capacity, total use). What capacity
 * no part used is the idle line. When measured use exceeds the configured fleet, parts share the
 * whole pool pro rata, idle is zero and the idle line says `overcommitted`.
 */
export function priceAllocatedPool(
  source: string,
  mode: Extract<CostMode, { mode: 'allocated' }>,
  parts: readonly ResolvedPart[],
  prices: readonly PriceEntry[],
  window: AttributionWindow,
): { parts: PricedPart[]; idle: IdleLine } {
  const used = parts.map((p) => coreHours(p.input.cpuNanoseconds, mode.samplingFraction));
  const totalUsed = sum(used);
  const hours = rational(BigInt(window.endMs - window.startMs), MS_PER_HOUR);
  const capacity = mode.fleetCores !== undefined ? mul(rational(mode.fleetCores, CORE_SCALE), hours) : null;
  const { cost, priceId, defaultPriced } = poolCost(source, mode, capacity, prices, window);
  const overcommitted = capacity !== null && compare(totalUsed, capacity) > 0;
  const denominator = capacity === null || overcommitted ? totalUsed : capacity;
  const share = (x: Rational): Rational => (denominator.num === 0n ? ZERO : div(mul(cost, x), denominator));
  const priced = parts.map((part, i) => ({ part, exact: share(used[i] as Rational), priceId, defaultPriced }));
  const idle = denominator.num === 0n ? cost : share(sub(denominator, totalUsed));
  return { parts: priced, idle: { key: `${IDLE_KEY_PREFIX}${source}`, source, exact: idle, overcommitted } };
}

/** Idle lines sort after every service key in tie-breaks. */
const IDLE_KEY_PREFIX = '\u{10FFFF}idle:';

function poolCost(
  source: string,
  mode: Extract<CostMode, { mode: 'allocated' }>,
  capacity: Rational | null,
  prices: readonly PriceEntry[],
  window: AttributionWindow,
): { cost: Rational; priceId: string; defaultPriced: boolean } {
  if (mode.bill) {
    const windowMs = BigInt(window.endMs - window.startMs);
    return {
      cost: rational(mode.bill.amount * windowMs, periodMs(mode.bill.per, window.startMs)),
      priceId: `bill:${source}`,
      defaultPriced: false,
    };
  }
  const price = resolvePrice(prices, { services: [], ...(mode.scope ?? {}) }, window.startMs);
  return {
    cost: mul(capacity ?? ZERO, rational(price.nanosPerCoreHour, NANOS_PER_MICRO)),
    priceId: price.id,
    defaultPriced: price.isDefault,
  };
}

/** Length of the bill period containing `atMs`; a month is the UTC calendar month. */
export function periodMs(per: 'hour' | 'day' | 'month', atMs: number): bigint {
  if (per === 'hour') return MS_PER_HOUR;
  if (per === 'day') return MS_PER_DAY;
  const d = new Date(atMs);
  const days = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  return BigInt(days) * MS_PER_DAY;
}
