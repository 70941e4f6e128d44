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
  readonly format: 'pprof' | 'folded' | 'cpuprofile' | 'speedscope' | 'jfr';
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
  /**
   * Requested label keys with more distinct values than the cardinality limit: their costliest values are kept and
   * the rest fold into `__other__` (the name is kept from when such keys were dropped: stored folds carry it).
   */
  readonly droppedLabelKeys?: readonly string[];
  /**
   * Sum of |value| over all samples: what `go tool pprof` prints as the total (it differs from `total` only when
   * values are negative, as in delta or diff profiles). Absent on folds built before this field existed.
   */
  readonly absoluteTotal?: bigint;
}

/** The input formats the engine reads. */
export type ProfileFormat = Fold['format'];

/** Options of `foldProfile`. */
export interface FoldOptions {
  /**
   * Sample type to fold: its type name (`cpu`), `type/unit` (`cpu/nanoseconds`) or a 0-based index as a string.
   * Default: the profile's `default_sample_type`, else its last sample type (as `go tool pprof`).
   */
  readonly sampleType?: string;
  /** Label keys to slice by (pprof string labels only). Absent or empty: no slices. */
  readonly labelKeys?: readonly string[];
  /** A label key with more distinct values than this keeps its costliest ones; the rest fold into `__other__`. Default 1000. */
  readonly maxLabelValues?: number;
  /** Cap on the inflated size of gzipped input. Default 512 MiB. */
  readonly maxInflatedBytes?: number;
  /** Skip format sniffing. */
  readonly format?: ProfileFormat;
  /** JFR only: samples per second of CPU and wall events (Pyroscope's `sampleRate`); default 100. */
  readonly sampleRate?: number;
  /**
   * pprof only: repair the function ids of Pyroscope's old .NET profiler (every function id 0, one function per
   * location) as Pyroscope does for `dotnetspy` pushes, instead of refusing the profile (see `PprofTables`).
   */
  readonly fixDotnetFunctionIds?: boolean;
}

/** One function of two aligned folds (e.g. baseline and current), values 0n where it is absent. */
export interface AlignedFunction {
  readonly name: string;
  readonly base: FunctionValue;
  readonly current: FunctionValue;
}

/** Two folds aligned by function name, for regression detection. */
export interface FoldAlignment {
  readonly sampleType: ValueType;
  readonly baseTotal: bigint;
  readonly currentTotal: bigint;
  /** Every function present in either fold, sorted by name. */
  readonly functions: readonly AlignedFunction[];
}
