/**
 * The profile engine: decode profiles (pprof, JFR, folded, V8 .cpuprofile, speedscope) and fold them per function with
 * `go tool pprof -top` semantics; merge, align, measure CPU time, and store folds. Pure: bytes and values in,
 * values out. See docs/profile-engine.md.
 */
export { foldProfile, sniffFormat } from './fold-profile';
export { foldJfr, DEFAULT_JFR_SAMPLE_RATE, type JfrFoldOptions } from './jfr/jfr.decoder';
export { decodeJfrLabels, type JfrLabels } from './jfr/jfr-labels';
export { mergeFolds, alignFolds, SampleTypeMismatchError } from './fold-merge';
export { cpuNanoseconds, timeKind, hasCpuSampleType } from './cpu-time';
export type { TimeKind } from './cpu-time';
export { serializeFold, deserializeFold, FoldCodecError } from './fold-codec';
export { topFunctions } from './fold-top';
export type { TopRow } from './fold-top';
export { ProfileDecodeError } from './profile-decode.error';
export type { DecodeErrorFormat } from './profile-decode.error';
export { DEFAULT_MAX_INFLATED_BYTES } from './bounded-gunzip';
export { pprofHasSamples } from './pprof-has-samples';
export { DEFAULT_MAX_LABEL_VALUES, foldPprofChoosing, type PprofMeasure } from './pprof.decoder';
export type * from './profile.types';
