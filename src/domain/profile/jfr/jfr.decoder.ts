import { FoldAccumulator } from '../fold-accumulator';
import { DEFAULT_MAX_LABEL_VALUES } from '../pprof.decoder';
import { ProfileDecodeError } from '../profile-decode.error';
import type { Fold, FoldOptions, LabelSlice, ValueType } from '../profile.types';
import type { JfrLabels } from './jfr-labels';
import { readJfr, type JfrEvent } from './jfr-reader';

/** Samples per second of CPU and wall events when the caller does not say: the Pyroscope Java agent's default. */
export const DEFAULT_JFR_SAMPLE_RATE = 100;

/**
 * The profiles a recording yields, in grafana/jfr-parser's order (`pprof/pprof.go`), each with its sample types.
 * Lock and park contentions share pprof's names in Pyroscope (told apart there by the `mutex`/`block` metric); here
 * they are prefixed so that every sample type of one recording has its own name.
 */
const PROFILES: readonly (readonly ValueType[])[] = [
  [{ type: 'cpu', unit: 'nanoseconds' }],
  [{ type: 'wall', unit: 'nanoseconds' }],
  [
    { type: 'alloc_in_new_tlab_objects', unit: 'count' },
    { type: 'alloc_in_new_tlab_bytes', unit: 'bytes' },
  ],
  [
    { type: 'alloc_outside_tlab_objects', unit: 'count' },
    { type: 'alloc_outside_tlab_bytes', unit: 'bytes' },
  ],
  [
    { type: 'mutex_contentions', unit: 'count' },
    { type: 'mutex_delay', unit: 'nanoseconds' },
  ],
  [
    { type: 'block_contentions', unit: 'count' },
    { type: 'block_delay', unit: 'nanoseconds' },
  ],
  [{ type: 'live', unit: 'count' }],
  [
    { type: 'alloc_sample_objects', unit: 'count' },
    { type: 'alloc_sample_bytes', unit: 'bytes' },
  ],
  [
    { type: 'malloc_objects', unit: 'count' },
    { type: 'malloc_bytes', unit: 'bytes' },
  ],
  // Not in jfr-parser (Pyroscope drops these events): the JDK's samples of threads in native code, one per event.
  [{ type: 'native_samples', unit: 'count' }],
];
const CPU = 0;
const WALL = 1;
const NATIVE = 9;
const PROFILE_OF_KIND: Readonly<Record<string, number>> = {
  allocInNewTlab: 2,
  allocOutsideTlab: 3,
  monitorEnter: 4,
  threadPark: 5,
  liveObject: 6,
  allocSample: 7,
  malloc: 8,
};

/** Options of `foldJfr` beyond the engine's. */
export interface JfrFoldOptions extends FoldOptions {
  /** The agent's `labels` part, mapping events' context ids to labels. */
  readonly labels?: JfrLabels;
}

/** The samples of a recording, one entry per event that made a sample. */
class Samples {
  readonly profile: number[] = [];
  readonly stack: number[] = [];
  readonly value0: number[] = [];
  readonly value1: number[] = [];
  readonly context: number[] = [];
  readonly spanName: number[] = [];
  readonly spanId: (number | bigint)[] = [];
  readonly present = new Set<number>();

  add(profile: number, e: JfrEvent, v0: number, v1: number): void {
    // Like grafana/jfr-parser, the profile exists once an event is routed to it, even if its stack is missing.
    this.present.add(profile);
    if (e.stack < 0) return;
    this.profile.push(profile);
    this.stack.push(e.stack);
    this.value0.push(v0);
    this.value1.push(v1);
    this.context.push(e.contextId);
    this.spanName.push(e.spanName);
    this.spanId.push(e.spanId);
  }
}

/**
 * Folds a JFR recording (uncompressed; several chunks allowed) for one sample type, billing as Pyroscope does
 * through grafana/jfr-parser (`pprof/parser.go`):
 * - `jdk.ExecutionSample` in any thread state but `STATE_SLEEPING` is CPU time (`cpu/nanoseconds`), one sampling
 *   period (1e9 / sampleRate ns) per event; with async-profiler's `event=wall` setting it is also wall time;
 * - `profiler.WallClockSample` is wall time (`samples` periods), and CPU time too in `STATE_RUNNABLE` under
 *   `event=wall`;
 * - allocations (in/outside TLAB, `jdk.ObjectAllocationSample`), `jdk.JavaMonitorEnter` (mutex),
 *   `jdk.ThreadPark` (block), `profiler.LiveObject` and `profiler.Malloc` are read as their own sample types,
 *   never CPU time; so is `jdk.NativeMethodSample` (`native_samples/count`, which jfr-parser does not read).
 * jfr-parser keeps the last WallClockSample's `samples` as the count of later events (its `values[0]` is never
 * reset); that is reproduced so that the CPU billed equals what Pyroscope stores.
 * Default sample type: `cpu/nanoseconds` when the recording has CPU samples, else the first one present.
 */
export function foldJfr(raw: Uint8Array, options: JfrFoldOptions = {}): Fold {
  const sampleRate = options.sampleRate ?? DEFAULT_JFR_SAMPLE_RATE;
  if (!Number.isSafeInteger(sampleRate) || sampleRate < 1)
    throw new ProfileDecodeError('jfr', `sample rate must be a positive integer, got ${sampleRate}`);
  const period = Math.trunc(1e9 / sampleRate);
  const samples = new Samples();
  let jfrEvent = '';
  let count = 1;
  const recording = readJfr(raw, (e) => {
    switch (e.kind) {
      case 'execution':
        if (e.state !== null && e.state !== 'STATE_SLEEPING') samples.add(CPU, e, count * period, 0);
        if (jfrEvent === 'wall') samples.add(WALL, e, count * period, 0);
        return;
      case 'wallClock':
        count = e.value;
        if (e.state === 'STATE_RUNNABLE' && jfrEvent === 'wall') samples.add(CPU, e, count * period, 0);
        samples.add(WALL, e, count * period, 0);
        return;
      case 'setting':
        if (e.settingName === 'event') jfrEvent = e.settingValue;
        return;
      case 'nativeSample':
        samples.add(NATIVE, e, 1, 0);
        return;
      default:
        samples.add(PROFILE_OF_KIND[e.kind]!, e, count, e.value);
    }
  });
  const present = [...samples.present].sort((a, b) => a - b);
  const sampleTypes = present.flatMap((p) => PROFILES[p]!);
  const [profile, valueIndex] = chooseSampleType(present, options.sampleType);
  const acc = new FoldAccumulator();
  for (const name of recording.names) acc.intern(name);
  const slicer = new LabelSlicer(acc, samples, profile, options);
  let sampleCount = 0;
  const values = valueIndex === 0 ? samples.value0 : samples.value1;
  for (let i = 0; i < samples.profile.length; i++) {
    if (samples.profile[i] !== profile) continue;
    sampleCount++;
    const stack = recording.stacks[samples.stack[i]!]!;
    acc.add(stack, stack.length, values[i]!, slicer.sliceOf(i));
  }
  const result = acc.result();
  const isTime = profile === CPU || profile === WALL;
  return {
    format: 'jfr',
    sampleType: PROFILES[profile]![valueIndex]!,
    sampleTypes,
    periodType: isTime ? PROFILES[profile]![0]! : null,
    period: isTime ? BigInt(period) : 0n,
    timeNanos: BigInt(recording.startNanos),
    durationNanos: BigInt(Math.max(0, recording.endNanos - recording.startNanos)),
    sampleCount,
    total: result.total,
    absoluteTotal: result.absoluteTotal,
    functions: result.functions,
    ...(slicer.slicing ? { slices: slicer.slices(result, sampleCount), droppedLabelKeys: slicer.dropped } : {}),
  };
}

/** [profile, value index] of the wanted sample type (`type`, `type/unit` or an index into `sampleTypes`). */
function chooseSampleType(present: readonly number[], wanted: string | undefined): [number, number] {
  const flat = present.flatMap((p) => PROFILES[p]!.map((_, v) => [p, v] as [number, number]));
  if (wanted === undefined || wanted === '') {
    if (present.includes(CPU)) return [CPU, 0];
    if (flat.length > 0) return flat[0]!;
    return [CPU, 0];
  }
  if (/^\d+$/.test(wanted) && Number(wanted) < flat.length) return flat[Number(wanted)]!;
  const found = flat.find(([p, v]) => {
    const t = PROFILES[p]![v]!;
    return t.type === wanted || `${t.type}/${t.unit}` === wanted;
  });
  if (found) return found;
  const known = flat.map(([p, v]) => `${PROFILES[p]![v]!.type}/${PROFILES[p]![v]!.unit}`).join(', ');
  throw new ProfileDecodeError('jfr', `sample type "${wanted}" is not in the recording; it has: ${known || 'none'}`);
}

/**
 * Label slices of one profile's samples: the agent's context labels plus `span_name`, restricted to the requested
 * keys; a key with more distinct values than the limit is dropped, as in the pprof fold.
 */
class LabelSlicer {
  readonly slicing: boolean;
  readonly dropped: string[] = [];
  private keys: string[] = [];
  private byProfileId = false;
  private readonly cache = new Map<string, ReturnType<FoldAccumulator['slice']>>();

  constructor(
    private readonly acc: FoldAccumulator,
    private readonly samples: Samples,
    profile: number,
    private readonly options: JfrFoldOptions,
  ) {
    const wanted = [...new Set(options.labelKeys ?? [])];
    this.slicing = wanted.length > 0;
    if (!this.slicing) return;
    const limit = options.maxLabelValues ?? DEFAULT_MAX_LABEL_VALUES;
    const values = wanted.map(() => new Set<string>());
    for (let i = 0; i < samples.profile.length; i++) {
      if (samples.profile[i] !== profile) continue;
      const labels = this.labelsOf(i);
      wanted.forEach((k, j) => {
        const v = labels[k];
        if (v !== undefined && values[j]!.size <= limit) values[j]!.add(v);
      });
    }
    this.keys = wanted.filter((_, j) => values[j]!.size > 0 && values[j]!.size <= limit);
    this.byProfileId = this.keys.includes('profile_id');
    this.dropped.push(...wanted.filter((_, j) => values[j]!.size > limit));
  }

  sliceOf(i: number): ReturnType<FoldAccumulator['slice']> | undefined {
    if (this.keys.length === 0) return undefined;
    const cacheKey = `${this.samples.context[i]}:${this.samples.spanName[i]}:${this.byProfileId ? this.samples.spanId[i] : 0}`;
    let slice = this.cache.get(cacheKey);
    if (!slice) {
      const all = this.labelsOf(i);
      const labels: Record<string, string> = {};
      for (const k of this.keys) if (all[k] !== undefined) labels[k] = all[k];
      slice = this.acc.slice(labels);
      this.cache.set(cacheKey, slice);
    }
    return slice;
  }

  /** As the pprof fold: with no requested key present, every sample is in the `{}` slice. */
  slices(result: ReturnType<FoldAccumulator['result']>, sampleCount: number): LabelSlice[] {
    if (this.keys.length > 0 || sampleCount === 0) return result.slices;
    return [{ labels: {}, total: result.total, functions: result.functions }];
  }

  /**
   * As grafana/jfr-parser labels a sample (`AddExternalSampleWithLabels`): the context's labels, `profile_id` (the
   * span id in 16 hex digits) when the event has a span, and `span_name` when its string is known. Pyroscope always
   * passes a labels snapshot, empty without a `labels` part, so `profile_id` is there even then.
   */
  private labelsOf(i: number): Readonly<Record<string, string>> {
    const labels = this.options.labels;
    const out: Record<string, string> = { ...(labels?.contexts.get(this.samples.context[i]!) ?? {}) };
    const spanId = this.samples.spanId[i]!;
    if (spanId !== 0) out['profile_id'] = BigInt(spanId).toString(16).padStart(16, '0');
    const spanName = this.samples.spanName[i]!;
    const span = spanName !== 0 ? labels?.strings.get(spanName) : undefined;
    if (span) out['span_name'] = span;
    return out;
  }
}
