import { base64Decode } from '@bufbuild/protobuf/wire';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { NAME_LIMITS } from './ingest-name';
import { IngestRequestError } from './ingest-request.error';
import type { IngestSeries } from './ingest-series';

/**
 * `push.v1.PushRequest` of Pyroscope's Connect push API (api/push/v1/push.proto and api/types/v1/types.proto in
 * grafana/pyroscope), what Grafana Alloy's `pyroscope.write` and pyroscope-rs >= 1.0 send:
 *
 * ```proto
 * message PushRequest { repeated RawProfileSeries series = 1; }
 * message RawProfileSeries { repeated types.v1.LabelPair labels = 1; repeated RawSample samples = 2;
 *                            repeated types.v1.ProfileAnnotation annotations = 3; }
 * message RawSample { bytes raw_profile = 1; string ID = 2; }
 * message LabelPair { string name = 1; string value = 2; }
 * ```
 *
 * Four messages are decoded by hand with @bufbuild/protobuf's wire reader rather than generated code (no build step,
 * as in src/sources/pyroscope-wire.ts). Annotations are read past: they carry no cost.
 */
export interface PushLabel {
  readonly name: string;
  readonly value: string;
}

export interface PushRawSample {
  /** A pprof profile, gzipped or not. */
  readonly rawProfile: Uint8Array;
  readonly id: string;
}

export interface PushSeriesMessage {
  readonly labels: readonly PushLabel[];
  readonly samples: readonly PushRawSample[];
}

export interface PushRequestMessage {
  readonly series: readonly PushSeriesMessage[];
}

/** The request body is not a `PushRequest` in the codec it claims: Connect `invalid_argument`. */
export class PushRequestDecodeError extends Error {
  constructor(detail: string) {
    super(`unmarshal message: ${detail}`);
    this.name = 'PushRequestDecodeError';
  }
}

/** Decodes a `PushRequest` in the Connect codec named by the request's Content-Type. */
export function decodePushRequest(body: Uint8Array, codec: 'proto' | 'json'): PushRequestMessage {
  try {
    return codec === 'proto' ? decodeProto(body) : decodeJson(body);
  } catch (err: unknown) {
    if (err instanceof PushRequestDecodeError) throw err;
    throw new PushRequestDecodeError((err as Error).message);
  }
}

function decodeProto(body: Uint8Array): PushRequestMessage {
  const series: PushSeriesMessage[] = [];
  readFields(body, (field, r) => {
    if (field !== 1) return false;
    series.push(decodeSeries(r.bytes()));
    return true;
  });
  return { series };
}

function decodeSeries(bytes: Uint8Array): PushSeriesMessage {
  const labels: PushLabel[] = [];
  const samples: PushRawSample[] = [];
  readFields(bytes, (field, r) => {
    if (field === 1) labels.push(decodeLabel(r.bytes()));
    else if (field === 2) samples.push(decodeSample(r.bytes()));
    else return false;
    return true;
  });
  return { labels, samples };
}

function decodeLabel(bytes: Uint8Array): PushLabel {
  let name = '';
  let value = '';
  readFields(bytes, (field, r) => {
    if (field === 1) name = r.string();
    else if (field === 2) value = r.string();
    else return false;
    return true;
  });
  return { name, value };
}

function decodeSample(bytes: Uint8Array): PushRawSample {
  let rawProfile: Uint8Array = new Uint8Array(0);
  let id = '';
  readFields(bytes, (field, r) => {
    if (field === 1) rawProfile = r.bytes();
    else if (field === 2) id = r.string();
    else return false;
    return true;
  });
  return { rawProfile, id };
}

/**
 * Reads every field of one message; `onField` consumes the length-delimited fields it knows (returning true) and the
 * rest are skipped, as protobuf requires of unknown fields. A known field number with the wrong wire type is an error.
 */
function readFields(bytes: Uint8Array, onField: (field: number, r: BinaryReader) => boolean): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (field === 0) throw new PushRequestDecodeError('field number 0');
    if (wireType === WireType.LengthDelimited) {
      const start = r.pos;
      if (onField(field, r)) continue;
      r.pos = start;
    }
    r.skip(wireType, field);
  }
  if (r.pos !== r.len) throw new PushRequestDecodeError('truncated message');
}

/**
 * The protobuf JSON mapping of `PushRequest` (what connect-go's JSON codec reads): the JSON name (`rawProfile`) or
 * the proto name (`raw_profile`), `bytes` in standard or URL-safe base64, unknown fields ignored (connect-go's codec
 * sets `DiscardUnknown`), `null` as the default.
 */
function decodeJson(body: Uint8Array): PushRequestMessage {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err: unknown) {
    throw new PushRequestDecodeError(`not JSON: ${(err as Error).message}`);
  }
  const root = object(doc, 'PushRequest');
  return {
    series: list(root['series'], 'series').map((s, i) => {
      const series = object(s, `series[${i}]`);
      return {
        labels: list(series['labels'], `series[${i}].labels`).map((l, j) => {
          const label = object(l, `series[${i}].labels[${j}]`);
          return { name: str(label['name'], 'name'), value: str(label['value'], 'value') };
        }),
        samples: list(series['samples'], `series[${i}].samples`).map((x, j) => {
          const sample = object(x, `series[${i}].samples[${j}]`);
          const raw = sample['rawProfile'] ?? sample['raw_profile'];
          return {
            rawProfile: bytesOf(raw, `series[${i}].samples[${j}].rawProfile`),
            id: str(sample['ID'] ?? sample['iD'], 'ID'),
          };
        }),
      };
    }),
  };
}

function object(v: unknown, where: string): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new PushRequestDecodeError(`${where}: expected an object`);
  return v as Record<string, unknown>;
}

function list(v: unknown, where: string): unknown[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new PushRequestDecodeError(`${where}: expected an array`);
  return v;
}

function str(v: unknown, where: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') throw new PushRequestDecodeError(`${where}: expected a string`);
  return v;
}

function bytesOf(v: unknown, where: string): Uint8Array {
  if (v === null || v === undefined) return new Uint8Array(0);
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v))
    throw new PushRequestDecodeError(`${where}: expected base64 bytes`);
  return base64Decode(v);
}

/** Pyroscope's label for the profile type (`process_cpu`, `memory`, `wall`, ...): Prometheus's metric name. */
export const PROFILE_NAME_LABEL = '__name__';
/** pkg/model/labels.go: `AttrServiceNameFallback`, used by the distributor when a series has no `service_name`. */
export const UNKNOWN_SERVICE = 'unknown_service';

/** A Connect series as flamebill files it: the same shape as a push's name, so both paths share the rest. */
export interface PushSeries extends IngestSeries {
  /** The `__name__` label: Pyroscope's profile type name. */
  readonly profileName: string;
  /** Every label, `__*` ones included, sorted by name: what identifies the series (part of the push digest). */
  readonly canonicalName: string;
}

/**
 * Validates a series' labels as Pyroscope's distributor does (pkg/distributor/distributor.go `pushSeries`,
 * pkg/validation/validate.go `ValidateLabels`): at least one label, a `__name__`, no duplicate names, the name and
 * length limits of `/ingest` names (`NAME_LIMITS`); no `service_name` means `unknown_service`. Labels starting with
 * `__` are Pyroscope's own and not kept as series labels, as for `/ingest`.
 * @throws IngestRequestError (Connect `invalid_argument`).
 */
export function resolvePushSeries(labels: readonly PushLabel[], index: number): PushSeries {
  const field = `series[${index}].labels`;
  if (labels.length === 0) throw new IngestRequestError(field, 'the series has no labels');
  if (labels.length > NAME_LIMITS.maxLabels)
    throw new IngestRequestError(field, `too many labels: ${labels.length} (at most ${NAME_LIMITS.maxLabels})`);
  const all: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const { name, value } of labels) {
    if (name === '' || !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name))
      throw new IngestRequestError(field, `invalid label name: ${JSON.stringify(name.slice(0, 80))}`);
    if (name.length > NAME_LIMITS.maxLabelNameLength)
      throw new IngestRequestError(field, `label name longer than ${NAME_LIMITS.maxLabelNameLength} characters`);
    if (value.length > NAME_LIMITS.maxLabelValueLength)
      throw new IngestRequestError(
        field,
        `value of label ${name} longer than ${NAME_LIMITS.maxLabelValueLength} characters`,
      );
    if (name in all) throw new IngestRequestError(field, `duplicate label name: ${name}`);
    all[name] = value;
  }
  const profileName = all[PROFILE_NAME_LABEL] ?? '';
  if (profileName === '')
    throw new IngestRequestError(field, `no ${PROFILE_NAME_LABEL} label (the profile type, e.g. process_cpu)`);
  const names = Object.keys(all).sort();
  const seriesLabels: Record<string, string> = {};
  for (const name of names) if (!name.startsWith('__')) seriesLabels[name] = all[name]!;
  const service = all['service_name'] || UNKNOWN_SERVICE;
  return {
    service,
    nameSuffix: profileName,
    seriesLabels,
    profileName,
    canonicalName: `connect{${names.map((n) => `${n}=${all[n]!}`).join(',')}}`,
  };
}
