import type { Fold, FunctionValue, LabelSlice, ValueType } from '../profile/profile.types';

/**
 * Returns `fold` expressed in nanoseconds of `kind` time: every value multiplied by `scale` and the sample type set
 * to `<kind>/nanoseconds`. Stored CPU rows are thus always in `cpu:nanoseconds` (or `wall:nanoseconds`), whatever the
 * agent counted in (samples × period for folded text or count-only pprof), so readers never rescale.
 * The input is not modified; when there is nothing to change it is returned as is (no copy on the hot path).
 */
export function foldInNanoseconds(fold: Fold, kind: 'cpu' | 'wall', scale: bigint): Fold {
  const sampleType: ValueType = { type: kind, unit: 'nanoseconds' };
  if (scale === 1n && fold.sampleType.type === kind && fold.sampleType.unit === 'nanoseconds') return fold;
  return {
    ...fold,
    sampleType,
    total: fold.total * scale,
    functions: scaleFunctions(fold.functions, scale),
    ...(fold.slices ? { slices: fold.slices.map((s) => scaleSlice(s, scale)) } : {}),
  };
}

function scaleSlice(slice: LabelSlice, scale: bigint): LabelSlice {
  return { labels: slice.labels, total: slice.total * scale, functions: scaleFunctions(slice.functions, scale) };
}

function scaleFunctions(functions: ReadonlyMap<string, FunctionValue>, scale: bigint): Map<string, FunctionValue> {
  const out = new Map<string, FunctionValue>();
  for (const [name, v] of functions) out.set(name, { flat: v.flat * scale, cum: v.cum * scale });
  return out;
}
