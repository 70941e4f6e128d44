import type { Catalog } from '../catalog/catalog.types';
import type { Fold } from '../profile/profile.types';
import type { PriceSettings } from './price-settings';

/** Named lines for money that belongs to no catalog team. */
export const UNOWNED = '__unowned__';
export const IDLE = '__idle__';
/** Function line for samples without frames (a fold whose flat values sum below its total). */
export const NO_FRAMES = '__no_frames__';
/** Label value for samples that lack the label key. */
export const NO_LABEL = '__none__';
/** Label value of the values of a key past the cardinality limit (`labels.maxValuesPerKey`), summed. */
export const OTHER_LABEL = '__other__';

/** A UTC window [startMs, endMs) in epoch milliseconds. */
export interface AttributionWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** One folded profile (or merge) of one service in the window. */
export interface ServiceWindowInput {
  /** The service name as the profiler reported it (resolved through the catalog). */
  readonly serviceName: string;
  readonly fold: Fold;
  /** CPU time of the fold (the profile engine's `cpuNanoseconds(fold)`); non-CPU folds are the caller's to reject. */
  readonly cpuNanoseconds: bigint;
  /** Series labels used by price scopes. */
  readonly cluster?: string;
  readonly region?: string;
  /** The configured source it came from: selects the cost mode (`cost.sources[source]`, else `cost.default`). */
  readonly source?: string;
  /** Digest of the stored profile bytes (provenance). */
  readonly profileDigest: string;
}

export interface AttributionInput {
  readonly window: AttributionWindow;
  readonly services: readonly ServiceWindowInput[];
  /** Null attributes everything to `__unowned__`. */
  readonly catalog: Catalog | null;
  /** Revision id of `catalog` (e.g. catalogRevisionId of its files), recorded as provenance. */
  readonly catalogRevision: string | null;
  readonly settings: PriceSettings;
  /** Label keys to split costs by (must be keys the folds were sliced by). */
  readonly labelKeys?: readonly string[];
  /**
   * Distinct values per (service, label key) in the window: past it the costliest are kept and the rest are summed
   * into `__other__` (profiles are capped one by one; many profiles of a window can add up past the limit).
   */
  readonly maxLabelValues?: number;
}

/** Cost of one service in the window: the sum of its inputs. */
export interface ServiceCost {
  /** Catalog name, or the profiler's name for an unowned service. */
  readonly service: string;
  /** Owning team id, or `__unowned__`. */
  readonly team: string;
  readonly system: string | null;
  /** Profiler names that resolved to this service, sorted. */
  readonly profileServiceNames: readonly string[];
  readonly cpuNanoseconds: bigint;
  readonly microdollars: bigint;
  readonly mode: 'measured' | 'allocated';
  /** Ids of the prices applied (one per distinct price; `opencost-default`, `bill:<source>` possible). */
  readonly priceIds: readonly string[];
  /** True when any part was priced with OpenCost's default price. */
  readonly defaultPriced: boolean;
  readonly profileDigests: readonly string[];
}

export interface FunctionCost {
  readonly service: string;
  readonly function: string;
  /** Share of the service's cost by flat (self) value; these sum to the service's cost. */
  readonly selfMicrodollars: bigint;
  /** Share by cum (inclusive) value, rounded on its own: inclusive figures overlap and do not sum. */
  readonly cumMicrodollars: bigint;
}

/** One function summed over every service it appears in. */
export interface CrossServiceFunctionCost {
  readonly function: string;
  readonly selfMicrodollars: bigint;
  readonly cumMicrodollars: bigint;
  readonly services: number;
}

export interface TeamCost {
  /** Team id (group name, `ns/name` outside the default namespace), or `__unowned__` / `__idle__`. */
  readonly team: string;
  readonly kind: 'group' | 'unowned' | 'idle';
  readonly displayName: string | null;
  readonly email: string | null;
  /** Parent team id in the group tree. */
  readonly parent: string | null;
  /** Services the team owns directly. */
  readonly ownMicrodollars: bigint;
  /** Own plus every descendant group's own. */
  readonly rolledUpMicrodollars: bigint;
}

/** A service's cost split by one label key; per service and key the values sum to its cost. */
export interface LabelCost {
  readonly service: string;
  readonly key: string;
  readonly value: string;
  readonly microdollars: bigint;
}

/** Paid-for capacity of an allocated source that no profile accounts for. */
export interface IdleCost {
  readonly source: string;
  readonly microdollars: bigint;
  /** Measured use exceeded the configured fleet: services were scaled down to the pool, idle is 0. */
  readonly overcommitted: boolean;
}

/** One service line's money per function, as parallel arrays: function `names[i]` gets `self[i]` and `cum[i]`. */
export interface ServiceFunctionSplit {
  readonly service: string;
  readonly names: readonly string[];
  readonly self: readonly bigint[];
  readonly cum: readonly bigint[];
}

/**
 * Everything one window's cost becomes. Conservation (exact, in micro-units of `currency`):
 * Σ services = Σ functions' self per service; Σ teams' own (groups + `__unowned__`) + Σ idle =
 * totalMicrodollars; per service and label key, Σ label values = the service's cost.
 */
export interface WindowAttribution {
  readonly window: AttributionWindow;
  readonly currency: string;
  readonly catalogRevision: string | null;
  readonly totalMicrodollars: bigint;
  readonly idleMicrodollars: bigint;
  readonly defaultPriced: boolean;
  readonly services: readonly ServiceCost[];
  readonly functions: readonly FunctionCost[];
  readonly crossServiceFunctions: readonly CrossServiceFunctionCost[];
  readonly teams: readonly TeamCost[];
  readonly labels: readonly LabelCost[];
  readonly idle: readonly IdleCost[];
  /** Profiler service names with no catalog entry, for someone to claim. */
  readonly unownedServices: readonly string[];
}

/**
 * A window's attribution with its function money per service (`attributeWindowSplits`) instead of the two
 * window-wide function lists: `functionSplits` has one entry per service line, by service name, and holds exactly
 * the lines `functions` would list for that service.
 */
export type WindowAttributionSplits = Omit<WindowAttribution, 'functions' | 'crossServiceFunctions'> & {
  readonly functionSplits: readonly ServiceFunctionSplit[];
};
