import { boundedGunzip, DEFAULT_MAX_INFLATED_BYTES, isGzip } from '../bounded-gunzip';
import { foldCpuProfile } from '../cpuprofile.decoder';
import { foldFolded } from '../folded.decoder';
import { sniffFormat } from '../fold-profile';
import { jsonFormat } from '../format-sniffer';
import { NameStackFolder } from '../name-stack-fold';
import { indexPprof, type PprofIndex } from '../pprof-index';
import { LabelSlicer, scanSamples } from '../pprof-samples';
import { PprofTables } from '../pprof-tables';
import { objfileName, selectSampleType, type PprofMeasure } from '../pprof.decoder';
import { ProfileDecodeError } from '../profile-decode.error';
import type { ProfileFormat, ValueType } from '../profile.types';
import { foldSpeedscope } from '../speedscope.decoder';
import { looksLikeLegacyPprof } from '../legacy/legacy.decoder';
import { TreeBuilder, type StackTree } from './stack-tree';
import { mergeTrees } from './tree-merge';

/** Which sample type a tree is built from, and how its values become the tree's unit. */
export interface TreeChoice {
  /** As `FoldOptions.sampleType`: a type name, `type/unit` or an index; undefined: the profile's default. */
  readonly sampleType?: string;
  /** Every value is multiplied by it (e.g. a sample count times the period gives nanoseconds). Default 1n. */
  readonly scale?: bigint;
  /** The tree's sample type after scaling; default the chosen sample type. */
  readonly as?: ValueType;
}

export interface TreeOptions {
  /**
   * Chooses from what a pprof profile says it measures (as `foldPprofChoosing` does); null builds nothing. For the
   * other formats it is called with their sample types and no period. Default: the profile's default sample type.
   */
  readonly choose?: (measure: PprofMeasure) => TreeChoice | null;
  /** A pprof string label to split the tree by (e.g. `version`): one tree per value besides the whole tree. */
  readonly splitLabel?: string;
  /** The split value of samples without `splitLabel` (e.g. the series' own `version`); default: in no split. */
  readonly defaultLabelValue?: string;
  readonly maxInflatedBytes?: number;
}

/** The tree of a profile and, with `splitLabel`, one per label value (samples without the label are in none). */
export interface ProfileTrees {
  readonly format: ProfileFormat;
  readonly tree: StackTree;
  readonly byLabel: ReadonlyMap<string, StackTree>;
}

/**
 * Builds the call tree of one profile for one sample type. Pprof (gzipped or not) is read with the fold's own
 * index and sample scan; each frame keeps its function name (pprof's printed name: `[mapping]` or `<unknown>` for
 * unsymbolized frames), file, start line and line. Folded text, V8 .cpuprofile and speedscope go through their fold
 * decoders and keep names only (those formats, as the engine reads them, carry no file or line).
 * @returns null when `choose` returned null.
 * @throws ProfileDecodeError on malformed input, or legacy (text) pprof, which the tree builder does not read.
 */
export function buildProfileTrees(bytes: Uint8Array, options: TreeOptions = {}): ProfileTrees | null {
  const raw = isGzip(bytes) ? boundedGunzip(bytes, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES) : bytes;
  const format = sniffFormat(raw);
  if (format === 'pprof') {
    if (looksLikeLegacyPprof(raw))
      throw new ProfileDecodeError(
        'pprof',
        'legacy text pprof has no stack tree here; convert it with `go tool pprof -proto`',
      );
    return pprofTrees(raw, options);
  }
  return textTrees(raw, format, options);
}

/** `buildProfileTrees`' whole tree. */
export function buildTree(bytes: Uint8Array, options: TreeOptions = {}): StackTree | null {
  return buildProfileTrees(bytes, options)?.tree ?? null;
}

function pprofTrees(raw: Uint8Array, options: TreeOptions): ProfileTrees | null {
  if (raw.length === 0) throw new ProfileDecodeError('pprof', 'expected a profile, found empty input');
  const ix = indexPprof(raw);
  // Stored raw profiles were accepted at ingest, .NET ones after the function-id repair: read them the same way.
  const tables = new PprofTables(ix, true);
  const sampleTypes = ix.sampleTypes.map((st) => tables.valueType(st));
  const defaultType = tables.string(ix.scalars.defaultSampleTypeIdx);
  const periodType = ix.scalars.periodType ? tables.valueType(ix.scalars.periodType) : null;
  const measure: PprofMeasure = {
    sampleTypes,
    periodType,
    period: ix.scalars.period,
    defaultSampleType: defaultType === '' ? null : defaultType,
  };
  const choice = options.choose ? options.choose(measure) : {};
  if (choice === null) return null;
  const valueIndex = selectSampleType(sampleTypes, defaultType, choice.sampleType);
  const chosen = sampleTypes[valueIndex] ?? { type: '', unit: '' };
  const scale = choice.scale ?? 1n;
  const as = choice.as ?? chosen;
  // The period is in the tree's unit only when it measures the same thing (a cpu period for a cpu tree).
  const period =
    scale !== 1n
      ? scale
      : periodType && periodType.type === chosen.type && periodType.unit === chosen.unit
        ? ix.scalars.period
        : 0n;
  const slicer = options.splitLabel ? new LabelSlicer([options.splitLabel], tables) : null;
  const { table } = scanSamples(ix, tables, valueIndex, sampleTypes.length, slicer);
  const builders = new Map<number, { builder: TreeBuilder; frames: LocationFrameCache }>();
  let stack = new Int32Array(256);
  for (let e = 0; e < table.count; e++) {
    const sum = table.big ? (table.sums as bigint[])[e]! : BigInt((table.sums as Float64Array)[e]!);
    if (sum === 0n) continue;
    const sliceId = table.sliceIds[e]!;
    let b = builders.get(sliceId);
    if (!b) {
      const builder = new TreeBuilder(as, period);
      builders.set(sliceId, (b = { builder, frames: new LocationFrameCache(ix, tables, builder) }));
    }
    const start = table.stackStart[e]!;
    const length = table.stackLength[e]!;
    let depth = 0;
    // Location ids are leaf first; frames are added root first: walk the locations backwards.
    for (let k = length - 1; k >= 0; k--) {
      const id = table.arena[start + k]!;
      const frames = b.frames.rootFirst(id, table.firstSample[e]!);
      if (depth + frames.length > stack.length) stack = grown(stack, depth + frames.length);
      stack.set(frames, depth);
      depth += frames.length;
    }
    b.builder.addStack(stack, depth, sum * scale);
  }
  const byLabel = new Map<string, StackTree>();
  const parts: StackTree[] = [];
  for (const [sliceId, { builder }] of builders) {
    const tree = builder.build();
    parts.push(tree);
    const valueIdx = slicer ? slicer.sliceValues[sliceId]![0]! : -1;
    const value = valueIdx >= 0 ? tables.string(valueIdx) : slicer ? options.defaultLabelValue : undefined;
    if (value !== undefined) byLabel.set(value, byLabel.has(value) ? mergeTrees([byLabel.get(value)!, tree]) : tree);
  }
  const tree =
    parts.length === 0 ? new TreeBuilder(as, period).build() : parts.length === 1 ? parts[0]! : mergeTrees(parts);
  return { format: 'pprof', tree, byLabel };
}

/** Frames of each location (root first: the outermost inlined function first), interned into one builder. */
class LocationFrameCache {
  private readonly cache = new Map<number, Int32Array>();
  private readonly functionIndex = new Map<number, number>();

  constructor(
    private readonly ix: PprofIndex,
    private readonly tables: PprofTables,
    private readonly builder: TreeBuilder,
  ) {}

  rootFirst(locationId: number, sampleOffset: number): Int32Array {
    const known = this.cache.get(locationId);
    if (known) return known;
    const loc = this.tables.locationIndexById.get(locationId);
    if (loc === undefined)
      throw new ProfileDecodeError('pprof', `sample refers to location id ${locationId}, which is not in the profile`, {
        offset: sampleOffset,
      });
    const { ix, tables, builder } = this;
    const L = ix.locations;
    const lineStart = L.lineStart.data[loc]!;
    const lineCount = L.lineCount.data[loc]!;
    const mappingId = L.mappingIds.data[loc]!;
    let frames: Int32Array;
    if (lineCount === 0) {
      frames = Int32Array.of(
        builder.frameOf(builder.fn({ name: objfileName(ix, tables, mappingId), file: '', startLine: 0 }), 0),
      );
    } else {
      frames = new Int32Array(lineCount);
      for (let j = 0; j < lineCount; j++) {
        const line = lineStart + j;
        const fn = tables.functionIndexById.get(L.lineFunctionIds.data[line]!)!;
        frames[lineCount - 1 - j] = builder.frameOf(this.functionOf(fn, mappingId), L.lineNumbers.data[line]!);
      }
    }
    this.cache.set(locationId, frames);
    return frames;
  }

  private functionOf(fn: number, mappingId: number): number {
    const { ix, tables, builder } = this;
    const nameIdx = ix.functions.nameIdx.data[fn]!;
    // A nameless function is named after the location's mapping, which differs between locations: not cached.
    if (nameIdx === 0) return builder.fn({ name: objfileName(ix, tables, mappingId), file: '', startLine: 0 });
    let id = this.functionIndex.get(fn);
    if (id === undefined) {
      id = builder.fn({
        name: tables.string(nameIdx),
        file: tables.string(ix.functions.filenameIdx.data[fn]!),
        startLine: ix.functions.startLine.data[fn]!,
      });
      this.functionIndex.set(fn, id);
    }
    return id;
  }
}

/** Keeps the stacks the text and JSON decoders fold, as tree frames (names only). */
class TreeStackFolder extends NameStackFolder {
  private readonly frames: number[] = [];
  private scratch = new Int32Array(256);
  builder: TreeBuilder | null = null;
  /** Stacks are collected before the sample type is known (the decoder reports it last), then added. */
  private readonly pending: Array<{ stack: Int32Array; value: bigint }> = [];
  private readonly names: string[] = [];

  override node(name: string): number {
    const id = super.node(name);
    if (this.names[id] === undefined) this.names[id] = name === '' ? '<unknown>' : name;
    return id;
  }

  override addRootFirst(rootFirst: ArrayLike<number>, length: number, value: number | bigint): void {
    super.addRootFirst(rootFirst, length, value);
    const stack = new Int32Array(length);
    for (let i = 0; i < length; i++) stack[i] = rootFirst[i]!;
    this.pending.push({ stack, value: BigInt(value) });
  }

  /** The tree of every stack seen, in `sampleType`, values times `scale`. */
  tree(sampleType: ValueType, scale: bigint, period: bigint): StackTree {
    const builder = new TreeBuilder(sampleType, period);
    for (const { stack, value } of this.pending) {
      if (value === 0n) continue;
      if (stack.length > this.scratch.length) this.scratch = grown(this.scratch, stack.length);
      for (let i = 0; i < stack.length; i++) this.scratch[i] = this.frameOf(builder, stack[i]!);
      builder.addStack(this.scratch, stack.length, value * scale);
    }
    return builder.build();
  }

  private frameOf(builder: TreeBuilder, nameId: number): number {
    let f = this.frames[nameId];
    if (f === undefined)
      this.frames[nameId] = f = builder.frameOf(builder.fn({ name: this.names[nameId]!, file: '', startLine: 0 }), 0);
    return f;
  }
}

const utf8 = new TextDecoder('utf-8');

function textTrees(raw: Uint8Array, format: ProfileFormat, options: TreeOptions): ProfileTrees | null {
  const folder = new TreeStackFolder({});
  let fold;
  if (format === 'folded') fold = foldFolded(utf8.decode(raw), {}, folder);
  else {
    const json = JSON.parse(utf8.decode(raw)) as Record<string, unknown>;
    const kind = jsonFormat(json) ?? format;
    fold = kind === 'speedscope' ? foldSpeedscope(json, {}, folder) : foldCpuProfile(json, {}, folder);
  }
  const measure: PprofMeasure = {
    sampleTypes: fold.sampleTypes,
    periodType: null,
    period: 0n,
    defaultSampleType: null,
  };
  const choice = options.choose ? options.choose(measure) : {};
  if (choice === null) return null;
  if (
    choice.sampleType !== undefined &&
    choice.sampleType !== `${fold.sampleType.type}/${fold.sampleType.unit}` &&
    choice.sampleType !== fold.sampleType.type
  ) {
    // The decoders fold their default sample type; another one needs a second pass with it.
    const again = new TreeStackFolder({});
    if (format === 'folded') fold = foldFolded(utf8.decode(raw), { sampleType: choice.sampleType }, again);
    else {
      const json = JSON.parse(utf8.decode(raw)) as Record<string, unknown>;
      fold =
        (jsonFormat(json) ?? format) === 'speedscope'
          ? foldSpeedscope(json, { sampleType: choice.sampleType }, again)
          : foldCpuProfile(json, { sampleType: choice.sampleType }, again);
    }
    const tree = again.tree(choice.as ?? fold.sampleType, choice.scale ?? 1n, choice.scale ?? 0n);
    return { format: fold.format, tree, byLabel: textSplit(tree, options) };
  }
  const scale = choice.scale ?? 1n;
  const tree = folder.tree(choice.as ?? fold.sampleType, scale, scale !== 1n ? scale : 0n);
  return { format: fold.format, tree, byLabel: textSplit(tree, options) };
}

/** These formats carry no labels: with a split and a default value, the whole tree is that value's. */
function textSplit(tree: StackTree, options: TreeOptions): Map<string, StackTree> {
  return options.splitLabel && options.defaultLabelValue !== undefined
    ? new Map([[options.defaultLabelValue, tree]])
    : new Map();
}

function grown(a: Int32Array, min: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(Math.max(min, a.length * 2));
  next.set(a);
  return next;
}
