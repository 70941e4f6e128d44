import { canonicalLabelKey, compareLabels, compareStrings } from './fold-accumulator';
import type { Fold, FoldAlignment, FunctionValue, LabelSlice, ValueType } from './profile.types';

/** Thrown when folds of different sample types are combined. */
export class SampleTypeMismatchError extends Error {
  constructor(
    readonly expected: ValueType,
    readonly found: ValueType,
  ) {
    super(`cannot combine folds of sample type ${describe(expected)} and ${describe(found)}`);
    this.name = 'SampleTypeMismatchError';
  }
}

/**
 * Merges folds of one sample type (e.g. several profiles of one service in a window): totals, flat and cum add up
 * per function, slices add up per label set, sample counts add up. Period and time metadata come from the first
 * fold; the result's `timeNanos` is the earliest and `durationNanos` spans to the latest end. Inputs are not
 * modified. Throws SampleTypeMismatchError when sample types differ, and on an empty list.
 */
export function mergeFolds(folds: readonly Fold[]): Fold {
  const first = folds[0];
  if (!first) throw new Error('mergeFolds needs at least one fold');
  for (const f of folds)
    if (!sameType(f.sampleType, first.sampleType)) throw new SampleTypeMismatchError(first.sampleType, f.sampleType);
  const functions = new Map<string, FunctionValue>();
  for (const f of folds) addFunctions(functions, f.functions);
  const sliced = folds.some((f) => f.slices !== undefined);
  return {
    format: first.format,
    sampleType: first.sampleType,
    sampleTypes: first.sampleTypes,
    periodType: first.periodType,
    period: first.period,
    ...timeSpan(folds),
    sampleCount: folds.reduce((n, f) => n + f.sampleCount, 0),
    total: folds.reduce((t, f) => t + f.total, 0n),
    absoluteTotal: folds.reduce((t, f) => t + (f.absoluteTotal ?? abs(f.total)), 0n),
    functions,
    ...(sliced
      ? {
          slices: mergeSlices(folds),
          droppedLabelKeys: [...new Set(folds.flatMap((f) => f.droppedLabelKeys ?? []))].sort(),
        }
      : {}),
  };
}

/**
 * Aligns two folds of one sample type by function name for regression detection: every function of either fold,
 * with zero values where it is absent, sorted by name. Throws SampleTypeMismatchError when sample types differ.
 */
export function alignFolds(base: Fold, current: Fold): FoldAlignment {
  if (!sameType(base.sampleType, current.sampleType))
    throw new SampleTypeMismatchError(base.sampleType, current.sampleType);
  const zero: FunctionValue = { flat: 0n, cum: 0n };
  const names = [...new Set([...base.functions.keys(), ...current.functions.keys()])].sort(compareStrings);
  return {
    sampleType: base.sampleType,
    baseTotal: base.total,
    currentTotal: current.total,
    functions: names.map((name) => ({
      name,
      base: base.functions.get(name) ?? zero,
      current: current.functions.get(name) ?? zero,
    })),
  };
}

function addFunctions(into: Map<string, FunctionValue>, from: ReadonlyMap<string, FunctionValue>): void {
  for (const [name, v] of from) {
    const prev = into.get(name);
    into.set(name, prev ? { flat: prev.flat + v.flat, cum: prev.cum + v.cum } : v);
  }
}

/** Slices with equal labels add up; a fold without slices counts as one `{}` slice so slices still sum to totals. */
function mergeSlices(folds: readonly Fold[]): LabelSlice[] {
  const merged = new Map<
    string,
    { labels: Readonly<Record<string, string>>; total: bigint; functions: Map<string, FunctionValue> }
  >();
  for (const f of folds) {
    const slices = f.slices ?? [{ labels: {}, total: f.total, functions: f.functions }];
    for (const s of slices) {
      const key = canonicalLabelKey(s.labels);
      const into = merged.get(key) ?? { labels: s.labels, total: 0n, functions: new Map<string, FunctionValue>() };
      into.total += s.total;
      addFunctions(into.functions, s.functions);
      merged.set(key, into);
    }
  }
  return [...merged.values()].sort((a, b) => compareLabels(a.labels, b.labels));
}

function timeSpan(folds: readonly Fold[]): { timeNanos: bigint; durationNanos: bigint } {
  const timed = folds.filter((f) => f.timeNanos !== 0n);
  if (timed.length === 0) return { timeNanos: 0n, durationNanos: folds[0]!.durationNanos };
  const start = timed.reduce((m, f) => (f.timeNanos < m ? f.timeNanos : m), timed[0]!.timeNanos);
  const end = timed.reduce((m, f) => (f.timeNanos + f.durationNanos > m ? f.timeNanos + f.durationNanos : m), 0n);
  return { timeNanos: start, durationNanos: end - start };
}

function sameType(a: ValueType, b: ValueType): boolean {
  return a.type === b.type && a.unit === b.unit;
}

function describe(t: ValueType): string {
  return `${t.type}/${t.unit}`;
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}
