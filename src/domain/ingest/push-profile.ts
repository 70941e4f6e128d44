import { boundedGunzip, DEFAULT_MAX_INFLATED_BYTES, isGzip } from '../profile/bounded-gunzip';
import { foldProfile } from '../profile/fold-profile';
import { decodeJfrLabels } from '../profile/jfr/jfr-labels';
import { foldJfr } from '../profile/jfr/jfr.decoder';
import { foldPprofChoosing } from '../profile/pprof.decoder';
import type { Fold, FoldOptions } from '../profile/profile.types';
import { classifyPprof, classifyText, type CostClass } from './cost-sample-type';
import { foldInNanoseconds } from './fold-scale';
import type { IngestPlan } from './ingest-plan';
import { linesToFolded } from './lines-format';
import { pushDigest } from './push-digest';
import { applySeriesLabels } from './series-label-slices';

/** How a push is folded: the label slicing of the `labels` settings and ingest's own switches. */
export interface PushFoldOptions {
  readonly labelKeys: readonly string[];
  readonly maxLabelValues: number;
  readonly maxInflatedBytes?: number;
  /** Count wall-clock time as CPU time when a profile has no CPU time (flagged `wallOnly`). */
  readonly countWallAsCpu: boolean;
}

/** A push to store: the fold is in `cpu:nanoseconds` or, for a counted wall-only profile, `wall:nanoseconds`. */
export interface FoldedPush {
  readonly action: 'store';
  readonly service: string;
  /** `<type>:<unit>` of `fold.sampleType`. */
  readonly profileType: string;
  readonly fold: Fold;
  readonly cpuNanoseconds: bigint;
  readonly wallOnly: boolean;
  readonly digest: string;
}

/** A push accepted (200) but not stored: there is no CPU time in it to bill. */
export interface SkippedPush {
  readonly action: 'skip';
  readonly reason: 'empty' | 'not-cpu' | 'wall-not-counted';
  readonly detail: string;
}

export type PushOutcome = FoldedPush | SkippedPush;

/**
 * Decides what to keep of one pushed profile and folds it once. The profile's own sample types say what it measures
 * (pprof); text formats rely on the name suffix and `units`. CPU time is stored; wall-only time only when
 * `countWallAsCpu` is set; heap and other profiles are skipped (accepted, not stored: they carry no CPU time and the
 * Node agent sends one with every flush). An empty body is skipped as Pyroscope skips it. The series' labels
 * (the name's tags) apply to every sample for label slicing (`applySeriesLabels`).
 *
 * @param body the profile bytes (the `profile` part for multipart, the `jfr` part for JFR), gzipped or not.
 * @param jfrLabels JFR only: the agent's `labels` part (a LabelsSnapshot), gzipped or not.
 * @throws ProfileDecodeError when the bytes cannot be read (the HTTP layer answers 422 with its message).
 */
export function foldPush(
  plan: IngestPlan,
  body: Uint8Array,
  options: PushFoldOptions,
  jfrLabels?: Uint8Array | null,
): PushOutcome {
  if (body.length === 0) return { action: 'skip', reason: 'empty', detail: 'empty profile' };
  const digest = pushDigest(plan, body);
  const foldOptions: FoldOptions = {
    labelKeys: options.labelKeys,
    maxLabelValues: options.maxLabelValues,
    maxInflatedBytes: options.maxInflatedBytes,
  };
  const folded =
    plan.kind === 'pprof' || plan.kind === 'multipart'
      ? foldPprofPush(body, { ...foldOptions, fixDotnetFunctionIds: isDotnetSpy(plan) }, options)
      : plan.kind === 'jfr'
        ? foldJfrPush(plan, body, jfrLabels ?? null, foldOptions)
        : foldTextPush(plan, body, foldOptions);
  const cost = inCpuNanoseconds(folded, options.countWallAsCpu);
  if (cost.action === 'skip') return cost;
  const fold = applySeriesLabels(cost.fold, plan.series.seriesLabels, options.labelKeys);
  return {
    ...cost,
    fold,
    service: plan.series.service,
    profileType: `${fold.sampleType.type}:${fold.sampleType.unit}`,
    digest,
  };
}

/**
 * Pushes from Pyroscope's .NET profiler (`spyName=dotnetspy`) get their function ids repaired as Pyroscope repairs
 * them on `/ingest` (pkg/og/convert/pprof/profile.go `isDotnetspy` and `FixFunctionIDForBrokenDotnet`). Pyroscope
 * also treats `spyName=unknown` with an `inuse-space` sample type config as .NET; flamebill does not (no agent sends it).
 * Its Connect push does not repair them (it answers 400 "function id is 0"), and neither does flamebill's.
 */
function isDotnetSpy(plan: IngestPlan): boolean {
  return plan.spyName === 'dotnetspy';
}

/** A profile's billable time: its fold in nanoseconds, or why it has none. */
export type CostFold =
  | { readonly action: 'store'; readonly fold: Fold; readonly cpuNanoseconds: bigint; readonly wallOnly: boolean }
  | SkippedPush;

/**
 * Folds one pprof profile (gzipped or not) for cost, classified by its own sample types exactly as a push is:
 * CPU time is kept; wall time only with `countWallAsCpu`; anything else is skipped. Pulled profiles go through
 * this too, so a service costs the same whether its profiles were pushed or pulled.
 * @throws ProfileDecodeError when the bytes cannot be read.
 */
export function foldPprofForCost(body: Uint8Array, options: PushFoldOptions): CostFold {
  const foldOptions: FoldOptions = {
    labelKeys: options.labelKeys,
    maxLabelValues: options.maxLabelValues,
    maxInflatedBytes: options.maxInflatedBytes,
  };
  return inCpuNanoseconds(foldPprofPush(body, foldOptions, options), options.countWallAsCpu);
}

function inCpuNanoseconds(folded: Folded, countWallAsCpu: boolean): CostFold {
  if ('action' in folded) return folded;
  const { fold, cls } = folded;
  if (cls.kind === 'other') return { action: 'skip', reason: 'not-cpu', detail: cls.description };
  if (cls.kind === 'wall' && !countWallAsCpu) {
    return {
      action: 'skip',
      reason: 'wall-not-counted',
      detail: 'wall-clock profile without CPU time (ingest.countWallAsCpu is off)',
    };
  }
  const inNs = foldInNanoseconds(fold, cls.kind, cls.scale);
  return { action: 'store', fold: inNs, cpuNanoseconds: inNs.total, wallOnly: cls.kind === 'wall' };
}

type Folded = { fold: Fold; cls: CostClass } | SkippedPush;

/** Inflates once, and in one pass over the bytes classifies the profile and folds only what cost will use. */
function foldPprofPush(body: Uint8Array, foldOptions: FoldOptions, options: PushFoldOptions): Folded {
  const raw = isGzip(body) ? boundedGunzip(body, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES) : body;
  if (raw.length === 0) return { action: 'skip', reason: 'not-cpu', detail: 'no sample types' };
  const seen: { cls?: CostClass } = {};
  const fold = foldPprofChoosing(raw, foldOptions, (measure) => {
    const cls = (seen.cls = classifyPprof(measure));
    return cls.kind === 'other' ? null : `${cls.sampleType.type}/${cls.sampleType.unit}`;
  });
  const cls = seen.cls!;
  if (cls.kind === 'other') return { action: 'skip', reason: 'not-cpu', detail: cls.description };
  return { fold: fold!, cls }; // folded: `choose` chose a sample type
}

/**
 * A JFR recording, billed as Pyroscope bills it: its execution samples are `process_cpu` (one sample = 1e9 /
 * sampleRate ns); wall, allocation and lock events are other profile types and not CPU time. The `labels` part maps
 * the events' context ids to labels, so label keys slice Java profiles like pprof sample labels.
 */
function foldJfrPush(plan: IngestPlan, body: Uint8Array, labels: Uint8Array | null, foldOptions: FoldOptions): Folded {
  const max = foldOptions.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const raw = isGzip(body) ? boundedGunzip(body, max) : body;
  const labelBytes = labels && labels.length > 0 ? (isGzip(labels) ? boundedGunzip(labels, max) : labels) : null;
  const fold = foldJfr(raw, {
    ...foldOptions,
    sampleRate: plan.sampleRate ?? undefined,
    labels: labelBytes ? decodeJfrLabels(labelBytes) : undefined,
  });
  if (fold.sampleType.type !== 'cpu') {
    const types = fold.sampleTypes.map((t) => `${t.type}/${t.unit}`).join(', ');
    return {
      action: 'skip',
      reason: 'not-cpu',
      detail: `JFR recording without execution samples (${types || 'no samples'})`,
    };
  }
  return { fold, cls: { kind: 'cpu', sampleType: fold.sampleType, scale: 1n } };
}

/** Folded, lines and speedscope: the name suffix and `units` say what the values are. */
function foldTextPush(plan: IngestPlan, body: Uint8Array, foldOptions: FoldOptions): Folded {
  const sampleRate = plan.sampleRate ?? 100;
  const cls = classifyText(plan.series.nameSuffix, plan.units, sampleRate);
  if (cls.kind === 'other') return { action: 'skip', reason: 'not-cpu', detail: cls.description };
  if (plan.kind === 'speedscope') {
    const fold = foldProfile(body, { ...foldOptions, format: 'speedscope' });
    // speedscope files in a time unit already hold nanoseconds; `none` holds samples taken at sampleRate.
    if (fold.sampleType.unit === 'nanoseconds')
      return { fold, cls: { ...cls, sampleType: fold.sampleType, scale: 1n } };
    if (fold.sampleType.unit !== 'count')
      return { action: 'skip', reason: 'not-cpu', detail: `speedscope in ${fold.sampleType.unit}` };
    return { fold, cls };
  }
  const text =
    plan.kind === 'lines'
      ? linesToFolded(isGzip(body) ? boundedGunzip(body, foldOptions.maxInflatedBytes) : body)
      : body;
  return { fold: foldProfile(text, { ...foldOptions, format: 'folded' }), cls };
}
