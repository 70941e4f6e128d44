import { FoldAccumulator } from './fold-accumulator';
import { indexPprof, type PprofIndex } from './pprof-index';
import {
  costliestLabelValues,
  countLabelValues,
  ExactSum,
  LabelSlicer,
  OTHER_VALUE,
  SampleReader,
  scanSamples,
  StackTable,
} from './pprof-samples';
import { PprofTables } from './pprof-tables';
import { LocationFrames } from './location-frames';
import { ProfileDecodeError } from './profile-decode.error';
import type { Fold, FoldOptions, ValueType } from './profile.types';

/** Default cardinality limit of a slicing label key. */
export const DEFAULT_MAX_LABEL_VALUES = 1000;

/**
 * Folds an uncompressed pprof Profile message into per-function flat/cum with `go tool pprof -top -nodefraction=0`
 * semantics at function granularity (symbolize=none):
 * - a function is identified by its printed name; inlined Lines of a Location are separate functions, leaf first;
 * - a frame without a function name prints as `[basename of the mapping file]`, or `<unknown>` without one;
 * - cum counts a sample once per distinct function; flat goes to the leaf;
 * - functions whose flat and cum are both 0 are left out.
 */
export function foldPprof(buf: Uint8Array, options: FoldOptions = {}): Fold {
  return foldPprofChoosing(buf, options, () => options.sampleType)!;
}

/** What a pprof profile says it measures: its sample types, period and default sample type (null when unset). */
export interface PprofMeasure {
  readonly sampleTypes: readonly ValueType[];
  readonly periodType: ValueType | null;
  readonly period: bigint;
  readonly defaultSampleType: string | null;
}

/**
 * `foldPprof`, with the sample type chosen by `choose` from what the profile says it measures, read from the same
 * pass over the bytes as the fold (ingest used to walk a profile once for its header and again to fold it: 7% of a
 * label-heavy push). `choose` returns a sample type as `FoldOptions.sampleType` takes it (undefined: pprof's default),
 * or null to fold nothing: then the result is null.
 */
export function foldPprofChoosing(
  buf: Uint8Array,
  options: FoldOptions,
  choose: (measure: PprofMeasure) => string | undefined | null,
): Fold | null {
  if (buf.length === 0) throw new ProfileDecodeError('pprof', 'expected a profile, found empty input');
  const ix = indexPprof(buf);
  const tables = new PprofTables(ix, options.fixDotnetFunctionIds === true);
  const sampleTypes = ix.sampleTypes.map((st) => tables.valueType(st));
  if (sampleTypes.length === 0 && ix.samples.length > 0) {
    throw new ProfileDecodeError(
      'pprof',
      'expected sample types, found samples without any (missing sample type information)',
    );
  }
  const defaultType = tables.string(ix.scalars.defaultSampleTypeIdx);
  const periodType = ix.scalars.periodType ? tables.valueType(ix.scalars.periodType) : null;
  const wanted = choose({
    sampleTypes,
    periodType,
    period: ix.scalars.period,
    defaultSampleType: defaultType === '' ? null : defaultType,
  });
  if (wanted === null) return null;
  const valueIndex = selectSampleType(sampleTypes, defaultType, wanted);
  const { keys, capped } = effectiveLabelKeys(ix, tables, options);
  const slicing = options.labelKeys !== undefined && options.labelKeys.length > 0;
  const sampleCount = ix.samples.length / 2;
  let acc: FoldAccumulator;
  let absoluteTotal: bigint;
  if (keys.length > 0) {
    const slicer = new LabelSlicer(keys, tables);
    if (capped.length > 0) {
      const limit = options.maxLabelValues ?? DEFAULT_MAX_LABEL_VALUES;
      const kept = costliestLabelValues(ix, tables, valueIndex, sampleTypes.length, capped, limit);
      capped.forEach((key, i) => (slicer.admitted[keys.indexOf(key)] = kept[i]!));
    }
    const { table } = scanSamples(ix, tables, valueIndex, sampleTypes.length, slicer);
    acc = foldStacks(ix, tables, table, slicer);
    absoluteTotal = table.absoluteTotal();
  } else {
    // No configured key has a value here (most profiles carry no labels): every sample is in the `{}` slice, so
    // that slice is the whole fold, and the faster unsliced fold computes it.
    ({ acc, absoluteTotal } = foldSamples(ix, tables, valueIndex, sampleTypes.length));
  }
  const result = acc.result();
  const slices =
    keys.length > 0 || sampleCount === 0
      ? result.slices
      : [{ labels: {}, total: result.total, functions: result.functions }];
  const s = ix.scalars;
  return {
    format: 'pprof',
    sampleType: sampleTypes[valueIndex] ?? { type: '', unit: '' },
    sampleTypes,
    periodType,
    period: s.period,
    timeNanos: s.timeNanos,
    durationNanos: s.durationNanos,
    sampleCount,
    total: result.total,
    absoluteTotal,
    functions: result.functions,
    ...(slicing ? { slices, droppedLabelKeys: capped } : {}),
  };
}

/**
 * Index of the sample type to fold. `wanted` may be a type name, `type/unit` or an index; without it,
 * `default_sample_type` when it names a sample type, else the last one (pprof's SampleIndexByName).
 */
export function selectSampleType(
  sampleTypes: readonly ValueType[],
  defaultType: string,
  wanted: string | undefined,
): number {
  if (wanted === undefined || wanted === '') {
    if (defaultType !== '') {
      const i = sampleTypes.findIndex((st) => st.type === defaultType);
      if (i >= 0) return i;
    }
    return sampleTypes.length - 1;
  }
  if (/^\d+$/.test(wanted)) {
    const i = Number(wanted);
    if (i < sampleTypes.length) return i;
  }
  const byName = sampleTypes.findIndex((st) => st.type === wanted || `${st.type}/${st.unit}` === wanted);
  if (byName >= 0) return byName;
  const known = sampleTypes.map((st) => `${st.type}/${st.unit}`).join(', ');
  throw new ProfileDecodeError('pprof', `sample type "${wanted}" is not in the profile; it has: ${known || 'none'}`);
}

/**
 * The configured label keys that slice this profile (those with at least one value), and among them the keys with
 * more values than the limit (`capped`: their costliest values are kept, the rest fold into `__other__`).
 */
function effectiveLabelKeys(
  ix: PprofIndex,
  tables: PprofTables,
  options: FoldOptions,
): { keys: string[]; capped: string[] } {
  const wanted = [...new Set(options.labelKeys ?? [])];
  if (wanted.length === 0) return { keys: [], capped: [] };
  const limit = options.maxLabelValues ?? DEFAULT_MAX_LABEL_VALUES;
  const counts = countLabelValues(ix, tables, wanted, limit);
  return {
    keys: wanted.filter((_, i) => counts[i]! > 0),
    capped: wanted.filter((_, i) => counts[i]! > limit),
  };
}

/** Samples per window of the no-slice fold's mode decision (see `foldSamples`). */
const DEDUP_WINDOW = 4096;
/** Slots of the table of recent stack hashes that tells, while folding per sample, whether stacks repeat again. */
const RECENT_SLOTS = 1 << 16;

/** The first sample (by offset) naming a location id that is not in the profile. */
interface MissingLocation {
  readonly id: number;
  readonly offset: number;
}

/**
 * The fold without slices, in one pass over the samples, window by window (DEDUP_WINDOW samples), in one of two
 * modes:
 * - *table*: samples are aggregated by stack (a StackTable) and each distinct stack is folded once at the end. This
 *   pays where stacks repeat (label-heavy profiles: one sample per request and label set, few distinct stacks).
 * - *each*: every sample is added to the accumulator as it is read, its location ids resolved while parsing. This
 *   pays where nearly every stack is distinct (merged or label-free profiles): the table would only copy them.
 * It starts in table mode; a window with more than half new stacks switches to *each*, and a window in *each* mode
 * in which more than half the stacks were seen recently (a table of recent stack hashes) switches back. Either way
 * the sums are exact and the result is the same.
 *
 * A sample naming an unknown location id fails the fold only after every sample has been read (other per-sample
 * errors win, as when slicing, where location ids are resolved after the scan); the error names the first such
 * sample in file order.
 */
function foldSamples(
  ix: PprofIndex,
  tables: PprofTables,
  valueIndex: number,
  valueCount: number,
): { acc: FoldAccumulator; absoluteTotal: bigint } {
  const acc = new FoldAccumulator();
  const nodes = locationNodes(ix, tables, acc);
  const reader = new SampleReader(ix, tables, valueIndex, valueCount, null);
  const n = ix.samples.length;
  const table = new StackTable();
  const recent = new Int32Array(RECENT_SLOTS);
  const eachAbs = new ExactSum();
  let missing: MissingLocation | null = null;
  let tableMode = true;
  for (let s = 0; s < n; s += 2 * DEDUP_WINDOW) {
    const end = Math.min(n, s + 2 * DEDUP_WINDOW);
    if (tableMode) {
      const before = table.count;
      addToTable(ix, reader, table, s, end, recent);
      tableMode = table.count - before <= (end - s) / 4;
    } else {
      const seen = addEachSample(ix, reader, s, end, nodes, acc, recent, eachAbs, (m) => (missing ??= m));
      tableMode = seen > (end - s) / 4;
    }
  }
  const tableMissing = addTableEntries(tables, table, nodes, acc, null);
  const first = firstMissing(missing, tableMissing);
  if (first) throw missingLocationError(first);
  return { acc, absoluteTotal: table.absoluteTotal() + eachAbs.value() };
}

/** Aggregates the samples at pair offsets [from, to) into `table` by stack, noting their hashes in `recent`. */
function addToTable(
  ix: PprofIndex,
  reader: SampleReader,
  table: StackTable,
  from: number,
  to: number,
  recent: Int32Array,
): void {
  const offsets = ix.samples.data;
  const mask = recent.length - 1;
  reader.resolveWith(null);
  for (let s = from; s < to; s += 2) {
    const start = offsets[s]!;
    reader.read(start, offsets[s + 1]!);
    const hash = reader.hash | 1;
    recent[(hash ^ (hash >>> 16)) & mask] = hash;
    const e = table.entry(reader.ids, reader.depth, reader.hash, 0, start);
    if (!reader.isBig()) table.addNumber(e, reader.value);
    else table.addBig(e, reader.bigValue());
  }
}

/**
 * Reads the samples at pair offsets [from, to) and adds each to `acc` as it is read, with its locations resolved
 * while parsing; adds |value| to `abs`; reports the first unknown location id to `onMissing` (that sample and every
 * later one is then only read, not added: the fold will fail). Returns how many of the samples had a stack hash
 * seen recently (`recent`, a direct-mapped table of stack hashes).
 */
function addEachSample(
  ix: PprofIndex,
  reader: SampleReader,
  from: number,
  to: number,
  nodes: LocationFrames,
  acc: FoldAccumulator,
  recent: Int32Array,
  abs: ExactSum,
  onMissing: (m: MissingLocation) => void,
): number {
  const offsets = ix.samples.data;
  const mask = recent.length - 1;
  let seen = 0;
  let failed = false;
  reader.resolveWith(nodes);
  for (let s = from; s < to; s += 2) {
    reader.read(offsets[s]!, offsets[s + 1]!);
    const hash = reader.hash | 1;
    const slot = (hash ^ (hash >>> 16)) & mask;
    if (recent[slot] === hash) seen++;
    else recent[slot] = hash;
    const big = reader.isBig() ? reader.bigValue() : null;
    if (big === null) abs.add(reader.value);
    else abs.addBig(big < 0n ? -big : big);
    if (reader.unknownId >= 0 && !failed) {
      onMissing({ id: reader.unknownId, offset: offsets[s]! });
      failed = true;
    }
    if (failed) continue;
    if (big === null) acc.addLocations(reader.locs, reader.depth, nodes.start, nodes.ids, reader.value);
    else acc.addLocationsBig(reader.locs, reader.depth, nodes.start, nodes.ids, big);
  }
  return seen;
}

function firstMissing(a: MissingLocation | null, b: MissingLocation | null): MissingLocation | null {
  if (!a) return b;
  if (!b) return a;
  return a.offset <= b.offset ? a : b;
}

function missingLocationError(m: MissingLocation): ProfileDecodeError {
  return new ProfileDecodeError('pprof', `sample refers to location id ${m.id}, which is not in the profile`, {
    offset: m.offset,
  });
}

/** Walks each distinct (stack, slice) once and adds it to the accumulator. */
function foldStacks(ix: PprofIndex, tables: PprofTables, table: StackTable, slicer: LabelSlicer): FoldAccumulator {
  const acc = new FoldAccumulator();
  const nodes = locationNodes(ix, tables, acc);
  const missing = addTableEntries(tables, table, nodes, acc, sliceResolver(tables, slicer, acc));
  if (missing) throw missingLocationError(missing);
  return acc;
}

/**
 * Adds every entry of `table` to `acc` (into the slice `sliceOf` gives its slice id; null: no slices), skipping
 * entries that name an unknown location id; returns the first of those (the first such sample in file order among
 * the table's: entries are in order of their first sample), or null. Returned, not thrown, so the caller decides
 * when it surfaces.
 */
function addTableEntries(
  tables: PprofTables,
  table: StackTable,
  nodes: LocationFrames,
  acc: FoldAccumulator,
  sliceOf: ((sliceId: number) => ReturnType<FoldAccumulator['slice']> | undefined) | null,
): MissingLocation | null {
  if (sliceOf === null && !table.big) return addTableEntriesUnsliced(table, nodes, acc);
  let scratch = new Int32Array(256);
  let missing: MissingLocation | null = null;
  entries: for (let e = 0; e < table.count; e++) {
    const start = table.stackStart[e]!;
    const length = table.stackLength[e]!;
    let n = 0;
    for (let i = 0; i < length; i++) {
      const id = table.arena[start + i]!;
      const loc = tables.locationIndexById.get(id);
      if (loc === undefined) {
        missing ??= { id, offset: table.firstSample[e]! };
        continue entries;
      }
      const from = nodes.start[loc]!;
      const count = nodes.start[loc + 1]! - from;
      if (n + count > scratch.length) scratch = grownInt32(scratch, n + count);
      for (let j = 0; j < count; j++) scratch[n++] = nodes.ids[from + j]!;
    }
    if (missing === null) acc.add(scratch, n, table.sums[e]!, sliceOf?.(table.sliceIds[e]!));
  }
  return missing;
}

/**
 * `addTableEntries` without slices and with number sums (the common case): each entry's ids resolve through the
 * dense table of frame codes, which `addLocations` walks in place, as the per-sample fold does, instead of a
 * Map-backed lookup per frame and a copy of every frame's node ids.
 */
function addTableEntriesUnsliced(
  table: StackTable,
  nodes: LocationFrames,
  acc: FoldAccumulator,
): MissingLocation | null {
  const codes = nodes.codeById;
  const arena = table.arena;
  const sums = table.sums as Float64Array;
  let locs = new Int32Array(256);
  let missing: MissingLocation | null = null;
  entries: for (let e = 0; e < table.count; e++) {
    const start = table.stackStart[e]!;
    const length = table.stackLength[e]!;
    if (length > locs.length) locs = grownInt32(locs, length);
    for (let i = 0; i < length; i++) {
      const id = arena[start + i]!;
      const code = id < codes.length ? codes[id]! : nodes.sparseCode(id);
      if (code === 0) {
        missing ??= { id, offset: table.firstSample[e]! };
        continue entries;
      }
      locs[i] = code;
    }
    if (missing === null) acc.addLocations(locs, length, nodes.start, nodes.ids, sums[e]!);
  }
  return missing;
}

/** Node ids of every location's frames, leaf first, as a CSR array (`start[loc]..start[loc+1]`). */
function locationNodes(ix: PprofIndex, tables: PprofTables, acc: FoldAccumulator): LocationFrames {
  const loc = ix.locations;
  const count = loc.ids.length;
  const start = new Int32Array(count + 1);
  const ids = new Int32Array(loc.lineFunctionIds.length + count);
  // Node id + 1 per named function (0: not yet): a function appears in many locations, and interning its name (a
  // Map lookup by string) once per line was a tenth of a push's fold.
  const functionNode = new Int32Array(ix.functions.ids.length);
  let n = 0;
  for (let i = 0; i < count; i++) {
    start[i] = n;
    const lineStart = loc.lineStart.data[i]!;
    const lineCount = loc.lineCount.data[i]!;
    if (lineCount === 0) {
      ids[n++] = acc.intern(objfileName(ix, tables, loc.mappingIds.data[i]!));
      continue;
    }
    for (let j = lineStart; j < lineStart + lineCount; j++) {
      const fn = tables.functionIndexById.get(loc.lineFunctionIds.data[j]!)!;
      const known = functionNode[fn]!;
      if (known !== 0) {
        ids[n++] = known - 1;
        continue;
      }
      const name = tables.string(ix.functions.nameIdx.data[fn]!);
      if (name === '') {
        // Named after the location's mapping, which differs between locations: not cached per function.
        ids[n++] = acc.intern(objfileName(ix, tables, loc.mappingIds.data[i]!));
        continue;
      }
      const node = acc.intern(name);
      functionNode[fn] = node + 1;
      ids[n++] = node;
    }
  }
  start[count] = n;
  return new LocationFrames(start, ids, tables.locationIndexById);
}

/** pprof's name for a frame without a function name: `[base of mapping file]`, or `<unknown>`. */
export function objfileName(ix: PprofIndex, tables: PprofTables, mappingId: number): string {
  const m = tables.mappingIndexById.get(mappingId);
  const file = m === undefined ? '' : tables.string(ix.mappings.fileIdx.data[m]!);
  return file === '' ? '<unknown>' : `[${goBase(file)}]`;
}

/** Go's filepath.Base on a slash-separated path. */
export function goBase(path: string): string {
  if (path === '') return '.';
  let p = path;
  while (p.length > 0 && p.endsWith('/')) p = p.slice(0, -1);
  if (p === '') return '/';
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

/** The value a capped label key's less costly values are folded into. */
export const OTHER_LABEL_VALUE = '__other__';

/** Maps slice ids of the scan to accumulator slices with decoded label records (equal records share a slice). */
function sliceResolver(tables: PprofTables, slicer: LabelSlicer, acc: FoldAccumulator) {
  const cache = new Map<number, ReturnType<FoldAccumulator['slice']>>();
  return (sliceId: number) => {
    let slice = cache.get(sliceId);
    if (!slice) {
      const labels: Record<string, string> = {};
      const values = slicer.sliceValues[sliceId]!;
      slicer.keys.forEach((key, k) => {
        if (values[k]! >= 0) labels[key] = tables.string(values[k]!);
        else if (values[k] === OTHER_VALUE) labels[key] = OTHER_LABEL_VALUE;
      });
      slice = acc.slice(labels);
      cache.set(sliceId, slice);
    }
    return slice;
  };
}

function grownInt32(a: Int32Array, min: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(Math.max(min, a.length * 2));
  next.set(a);
  return next;
}
