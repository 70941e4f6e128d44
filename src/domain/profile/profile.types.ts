/**
 * Contract of the profile engine: what every decoder produces and every later stage (cost, storage,
 * regressions) consumes. Values are in the unit of the chosen sample type and stay exact as bigint,
 * because fleet merges pass 2^53.
 */

/** A pprof ValueType: e.g. { type: 'cpu', unit: 'nanoseconds' }. */
export interface ValueType {
  readonly type: string;
  readonly unit: string;
}

/** Per-function totals, with `go tool pprof -top` semantics. */
export interface FunctionValue {
  /** Value of samples whose leaf frame is this function. */
  readonly flat: bigint;
  /** Value of samples in which this function appears, once per sample even under recursion. */
  readonly cum: bigint;
}

/** The fold of the samples that share one label set (only the configured label keys). */
export interface LabelSlice {
  /** Canonical label set; `{}` for samples with none of the configured keys. */
  readonly labels: Readonly<Record<string, string>>;
  readonly total: bigint;
  readonly functions: ReadonlyMap<string, FunctionValue>;
}

/** One profile (or a merge of several) folded per function for one sample type. */
export interface Fold {
  /** Format the bytes were read as. */
  readonly format: 'pprof' | 'folded' | 'cpuprofile' | 'speedscope';
  /** The sample type that `total` and `functions` are in. */
  readonly sampleType: ValueType;
  /** Every sample type the profile carries, in order. */
  readonly sampleTypes: readonly ValueType[];
  /** pprof period type and period (e.g. cpu/nanoseconds, 10000000); null/0n when absent. */
  readonly periodType: ValueType | null;
  readonly period: bigint;
  /** Profile start and duration in ns since the epoch; 0n when absent. */
  readonly timeNanos: bigint;
  readonly durationNanos: bigint;
  /** Number of samples read (including zero-valued ones). */
  readonly sampleCount: number;
  /** Sum of the chosen sample value over all samples. */
  readonly total: bigint;
  readonly functions: ReadonlyMap<string, FunctionValue>;
  /** Present when label keys were requested: the same values split by label set; slices sum to the totals. */
  readonly slices?: readonly LabelSlice[];
  /** Requested label keys dropped because they exceeded the cardinality limit. */
  readonly droppedLabelKeys?: readonly string[];
}
