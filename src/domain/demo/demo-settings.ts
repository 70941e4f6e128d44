import type { CostMode, PriceEntry, PriceSettings } from '../cost/price-settings';

/** Source name of the demo's profile rows, so they are easy to tell apart (and to delete). */
export const DEMO_SOURCE = 'demo';

/** The price scope of the simulated fleet: no profile of a real source carries this cluster, so no real cost uses it. */
export const DEMO_FLEET_CLUSTER = 'flamebill-demo';

/** $0.04 (in the configured currency) per core-hour, for the simulated demo fleet only. */
export const DEMO_PRICE: PriceEntry = {
  id: 'demo-fleet',
  nanosPerCoreHour: 40_000_000n,
  effectiveFromMs: Date.UTC(2000, 0, 1),
  scope: { kind: 'cluster', value: DEMO_FLEET_CLUSTER },
};

/**
 * The demo source priced as a fleet of 2,400 cores (allocated mode), of whose CPU time the shipped profiles are a
 * sample of 0.0000015: each hour's profile of a service holds 0.2 to 2.6 CPU-seconds, standing for 0.15 to 1.7
 * million core-seconds, so the six services use about 42 % of the fleet in the quietest hour and about
 * 74 % at the weekday peak (demo/README.md has the measured figures); the rest is `__idle__`.
 */
export const DEMO_COST_MODE: CostMode = {
  mode: 'allocated',
  samplingFraction: { num: 15n, den: 10_000_000n },
  fleetCores: 2_400n * 1_000_000_000n,
  scope: { cluster: DEMO_FLEET_CLUSTER },
};

/**
 * Adds the demo's cost mode (`cost.sources.demo`) and its cluster-scoped price to settings that configure none for
 * the demo source: nothing else is priced differently, and settings that price the demo source themselves win.
 */
export function withDemoPricing<T extends PriceSettings>(settings: T): T {
  if (settings.cost.sources[DEMO_SOURCE] !== undefined) return settings;
  const hasPrice = settings.prices.some((p) => p.id === DEMO_PRICE.id);
  return {
    ...settings,
    prices: hasPrice ? settings.prices : [...settings.prices, DEMO_PRICE],
    cost: { ...settings.cost, sources: { ...settings.cost.sources, [DEMO_SOURCE]: DEMO_COST_MODE } },
  } as T;
}
