import type { Fold, ValueType } from './profile.types';

/** What a fold's values measure, for costing: CPU time, wall time only, or something else (memory, counts...). */
export type TimeKind = 'cpu' | 'wall' | 'other';

const CPU_TYPES = new Set(['cpu']);
const WALL_TYPES = new Set(['wall', 'time']);
const SAMPLE_COUNT_TYPES = new Set(['samples', 'sample']);

/**
 * CPU time of a fold in nanoseconds, or null when the fold is not CPU time:
 * - sample type `cpu` in nanoseconds (any case, as profile_python's `CPU`): the total;
 * - sample type `samples`/`count` with period type `cpu`/`nanoseconds` and a positive period: total × period
 *   (exact: bigint). Wall-clock types (`wall`, `time` (speedscope), a `samples` count with a `wall` period) are not
 *   CPU time: see `timeKind`.
 */
export function cpuNanoseconds(fold: Fold): bigint | null {
  const st = fold.sampleType;
  if (isCpu(st) && st.unit === 'nanoseconds') return fold.total;
  if (
    isSampleCount(st) &&
    fold.periodType &&
    isCpu(fold.periodType) &&
    fold.periodType.unit === 'nanoseconds' &&
    fold.period > 0n
  ) {
    return fold.total * fold.period;
  }
  return null;
}

/**
 * Whether a fold measures CPU time, wall time only (e.g. the Node agent's wall profile without cpu/nanoseconds,
 * a V8 .cpuprofile, a JFR wall profile), or neither. Cost counts wall time only where a setting says so.
 */
export function timeKind(fold: Fold): TimeKind {
  if (cpuNanoseconds(fold) !== null) return 'cpu';
  const st = fold.sampleType;
  if (WALL_TYPES.has(st.type.toLowerCase())) return 'wall';
  if (isSampleCount(st) && fold.periodType && WALL_TYPES.has(fold.periodType.type.toLowerCase())) return 'wall';
  return 'other';
}

/** True when the profile carries a CPU sample type among its types (another sample type could be folded for cost). */
export function hasCpuSampleType(sampleTypes: readonly ValueType[]): boolean {
  return sampleTypes.some((t) => isCpu(t) && t.unit === 'nanoseconds');
}

function isCpu(t: ValueType): boolean {
  return CPU_TYPES.has(t.type.toLowerCase());
}

function isSampleCount(t: ValueType): boolean {
  return SAMPLE_COUNT_TYPES.has(t.type.toLowerCase()) && t.unit === 'count';
}
