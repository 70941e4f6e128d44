/**
 * Pure steps of a Pyroscope-compatible push: metadata (name, time range, format, sample rate) to a plan, the
 * pprof header to a cost class, and a fold to nanoseconds. No I/O, no clock: the HTTP layer passes `now` in.
 */
export { IngestRequestError } from './ingest-request.error';
export { parseIngestName, canonicalIngestName, NAME_LIMITS, type IngestName } from './ingest-name';
export { resolveIngestSeries, KNOWN_NAME_SUFFIXES, type IngestSeries, type NameTyping } from './ingest-series';
export { parseIngestTime, parseIngestRange } from './ingest-time';
export { windowOf } from './ingest-window';
export {
  decideIngestFormat,
  type IngestBodyKind,
  type IngestFormatDecision,
  type UnsupportedIngestFormat,
} from './ingest-format';
export { parseSampleRate, DEFAULT_SAMPLE_RATE_HZ } from './sample-rate';
export { planIngest, UnsupportedIngestFormatError, type IngestPlan, type IngestQuery } from './ingest-plan';
export { classifyPprof, classifyText, type CostClass } from './cost-sample-type';
export { foldInNanoseconds } from './fold-scale';
export { pushDigest, type PushIdentity } from './push-digest';
export { linesToFolded } from './lines-format';
export { parseSampleTypeConfig, SampleTypeConfigError, type SampleTypeConfigEntry } from './sample-type-config';
export {
  foldPush,
  foldPprofForCost,
  type CostFold,
  type FoldedPush,
  type SkippedPush,
  type PushOutcome,
  type PushFoldOptions,
} from './push-profile';
