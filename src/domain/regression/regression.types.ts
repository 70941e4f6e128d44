import type { StackTree } from '../profile/tree';

/** Flat: the function's own samples; cum: samples with the function anywhere on the stack. */
export type RegressionKind = 'flat' | 'cum';

/** One side of a comparison: a service's merged tree over a window (or of one `version`), and optionally its traffic. */
export interface RegressionSample {
  readonly tree: StackTree;
  /** Requests served in the sample: with both sides' counts, values are compared per request instead of as shares. */
  readonly requests?: number;
}

/** Money per unit of the trees' value (e.g. micro-dollars per CPU nanosecond, as a fraction) and the window length. */
export interface RegressionPrice {
  /** Micro-units of the currency per unit of value, as numerator / denominator (exact). */
  readonly microsPerValue: { readonly numerator: bigint; readonly denominator: bigint };
  /** Wall length of the current sample in nanoseconds, to turn its extra value into a yearly figure. */
  readonly windowNanoseconds: bigint;
}

export interface DetectOptions {
  /** Family-wise (Holm) or false-discovery (Benjamini-Hochberg) level of the significance test. Default 0.01. */
  readonly alpha?: number;
  readonly correction?: 'holm' | 'benjamini-hochberg';
  /** (current share − base share) / base share at least this. Default 0.1. */
  readonly minRelativeChange?: number;
  /** With a price: yearly extra cost at least this many micro-units. Default 0. */
  readonly minImpactPerYearMicros?: bigint;
  readonly price?: RegressionPrice;
  /**
   * Value of one sample when a tree has no period (period 0n: sources that disagreed or formats without one). Default
   * 10 ms in nanoseconds, the 100 Hz of Go's and the Pyroscope agents' CPU profilers.
   */
  readonly periodFallback?: bigint;
  /** A finding is blamed on a caller, callee or its own flat when that explains at least this fraction. Default 0.8. */
  readonly blameFraction?: number;
  /** Relative standard deviation of a share between runs of one build, added to the sampling variance. Default 0.1. */
  readonly betweenRunCv?: number;
  /** Frames whose samples (with everything under them) are left out; default: profiler artifacts (`isProfilerArtifact`). */
  readonly ignoreFunction?: (name: string) => boolean;
}

/** One significant increase of a function's share (or per-request value), with its figures. */
export interface RegressionFinding {
  readonly function: string;
  readonly kind: RegressionKind;
  /**
   * The function's value (flat or cum) and its service's total on each side, in the trees' unit; totals leave out the
   * ignored frames (`ignoreFunction`), and shares are over those totals.
   */
  readonly baseValue: bigint;
  readonly currentValue: bigint;
  readonly baseTotal: bigint;
  readonly currentTotal: bigint;
  readonly baseShare: number;
  readonly currentShare: number;
  /** (current − base) / base of the normalized value; Infinity for a function absent from the base. */
  readonly relativeChange: number;
  /** Adjusted for the number of tests (every function, flat and cum). */
  readonly pValue: number;
  /** Current value minus what the base predicts for the current traffic (base share × current total, or per request). */
  readonly valueDelta: bigint;
  /** Yearly cost of `valueDelta` at the given price, in micro-units; null without a price. */
  readonly impactPerYearMicros: bigint | null;
  /** Callers through which the increase arrived, largest first (at most 5). */
  readonly topCallers: readonly { readonly function: string; readonly valueDelta: bigint }[];
}

export interface RegressionReport {
  /** Most important first: by yearly impact with a price, else by value delta. */
  readonly findings: readonly RegressionFinding[];
  /** Tests run (functions × 2 kinds), the size of the multiple-comparison correction. */
  readonly tests: number;
  readonly baseSamples: number;
  readonly currentSamples: number;
  /** The pair's own robust estimate of the between-run deviation of log shares beyond sampling (diagnostic only). */
  readonly dispersion: number;
}
