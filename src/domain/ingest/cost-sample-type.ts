import type { ValueType } from '../profile/profile.types';
import type { PprofMeasure } from '../profile/pprof.decoder';

/**
 * What a pushed profile is worth to cost, decided from what the profile measures (its sample types), never from
 * the name: the Node agent sends its wall and heap profiles under one name.
 * - `cpu`: CPU time; `sampleType` is folded and every value is multiplied by `scale` to get nanoseconds.
 * - `wall`: wall-clock time only (nanoseconds after `scale`); CPU only where `countWallAsCpu` says so.
 * - `other`: heap, allocations, contention, goroutines...: accepted, not stored, not counted.
 */
export type CostClass =
  | { readonly kind: 'cpu' | 'wall'; readonly sampleType: ValueType; readonly scale: bigint }
  | { readonly kind: 'other'; readonly description: string };

/** Nanoseconds per unit of the time units pprof writers use. */
const TIME_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['nanoseconds', 1n],
  ['microseconds', 1_000n],
  ['milliseconds', 1_000_000n],
  ['seconds', 1_000_000_000n],
]);

/**
 * Classifies a pprof profile by its sample types, in this order (time units ns, µs, ms and s are all accepted and
 * scaled to nanoseconds; older Node agents write `wall/microseconds`):
 * 1. a `cpu/<time>` sample type (Go, Java via JFR, .NET, the Node wall profile with `collectCpuTime`);
 * 2. `samples/count` (or `sample/count`) with period type `cpu/<time>` and a positive period:
 *    CPU time = count × period (samplers that record only counts);
 * 3. a `wall/<time>` sample type (the Node wall profile without CPU time, Java wall mode), or `time/<time>` when the
 *    period type says wall clock (fgprof);
 * 4. `samples/count` with a wall period type: wall time = count × period;
 * 5. anything else (heap, allocations, contention, goroutines) is `other`.
 */
export function classifyPprof(header: PprofMeasure): CostClass {
  const { sampleTypes, periodType, period } = header;
  const cpu = findTimed(sampleTypes, (t) => t === 'cpu');
  if (cpu) return { kind: 'cpu', sampleType: cpu.type, scale: cpu.ns };
  const periodNs = periodType ? TIME_UNITS.get(periodType.unit) : undefined;
  const counts = sampleTypes.find((t) => (t.type === 'samples' || t.type === 'sample') && t.unit === 'count');
  const countScale = counts && periodNs !== undefined && period > 0n ? period * periodNs : null;
  if (countScale !== null && periodType!.type === 'cpu') return { kind: 'cpu', sampleType: counts!, scale: countScale };
  const wallPeriod = periodType !== null && periodType.type.startsWith('wall');
  const wall = findTimed(sampleTypes, (t) => t === 'wall' || (t === 'time' && wallPeriod));
  if (wall) return { kind: 'wall', sampleType: wall.type, scale: wall.ns };
  if (countScale !== null && wallPeriod) return { kind: 'wall', sampleType: counts!, scale: countScale };
  return { kind: 'other', description: sampleTypes.map((t) => `${t.type}/${t.unit}`).join(', ') || 'no sample types' };
}

function findTimed(
  types: readonly ValueType[],
  match: (type: string) => boolean,
): { type: ValueType; ns: bigint } | null {
  for (const t of types) {
    const ns = TIME_UNITS.get(t.unit);
    if (ns !== undefined && match(t.type)) return { type: t, ns };
  }
  return null;
}

/** Pyroscope `units` values that mean "samples of a CPU or wall sampler" (the default is `samples`). */
const SAMPLE_UNITS = new Set(['samples', '']);

/**
 * Classifies a text-format push (folded, lines, speedscope), which carries no sample types: the name suffix and the
 * `units` parameter say what the numbers are, as in Pyroscope. Values are samples taken at `sampleRate` Hz, so one
 * sample is `floor(1e9 / sampleRate)` nanoseconds: Pyroscope's own conversion (`period = 1s / sampleRate`).
 * - suffix `cpu` or `itimer` (a name without a dot is `cpu`) with units `samples`: CPU;
 * - suffix `wall` with units `samples`: wall;
 * - anything else: other.
 */
export function classifyText(nameSuffix: string | null, units: string | undefined, sampleRate: number): CostClass {
  const u = (units ?? '').trim();
  const samples: ValueType = { type: 'samples', unit: 'count' };
  const scale = BigInt(Math.floor(1e9 / sampleRate));
  if (!SAMPLE_UNITS.has(u)) return { kind: 'other', description: `${nameSuffix ?? 'unknown'} in ${u}` };
  if (nameSuffix === 'cpu' || nameSuffix === 'itimer') return { kind: 'cpu', sampleType: samples, scale };
  if (nameSuffix === 'wall') return { kind: 'wall', sampleType: samples, scale };
  return { kind: 'other', description: nameSuffix ?? 'unknown' };
}
