import { ProfileDecodeError } from '../profile/profile-decode.error';
import { ProtoCursor, WIRE_LEN, WIRE_VARINT } from '../profile/proto-cursor';
import type { ValueType } from '../profile/profile.types';

/** What a pprof profile says it measures, read without decoding its samples. */
export interface PprofHeader {
  readonly sampleTypes: readonly ValueType[];
  readonly periodType: ValueType | null;
  readonly period: bigint;
  /** `default_sample_type` as a type name, or null when unset. */
  readonly defaultSampleType: string | null;
}

const F_SAMPLE_TYPE = 1;
const F_STRING_TABLE = 6;
const F_PERIOD_TYPE = 11;
const F_PERIOD = 12;
const F_DEFAULT_SAMPLE_TYPE = 14;

/**
 * Reads sample types, period type, period and default sample type of an (inflated) pprof message in one walk over
 * its top-level fields, skipping samples, locations and functions. It lets ingest decide what a profile measures
 * (CPU, wall, heap) before paying for a fold: the Node agent sends a heap profile with every flush that cost
 * ignores, and folding it would double the work per flush.
 *
 * @throws ProfileDecodeError (format `pprof`, with the byte offset) on malformed wire data or string indices
 *   out of range.
 */
export function readPprofHeader(buf: Uint8Array): PprofHeader {
  const cursor = new ProtoCursor(buf);
  cursor.reset(0, buf.length);
  const sub = new ProtoCursor(buf);
  const refs: Array<{ typeIdx: number; unitIdx: number; at: number }> = [];
  let periodTypeRef: { typeIdx: number; unitIdx: number; at: number } | null = null;
  let period = 0n;
  let defaultIdx = 0;
  const stringSpans: number[] = [];
  while (cursor.pos < cursor.end) {
    const tag = cursor.tag();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === WIRE_LEN && (field === F_SAMPLE_TYPE || field === F_PERIOD_TYPE || field === F_STRING_TABLE)) {
      const at = cursor.pos;
      const end = cursor.lengthDelimitedEnd();
      if (field === F_STRING_TABLE) stringSpans.push(cursor.pos, end);
      else {
        sub.reset(cursor.pos, end);
        const ref = { ...readValueType(sub), at };
        if (field === F_SAMPLE_TYPE) refs.push(ref);
        else periodTypeRef = ref;
      }
      cursor.pos = end;
    } else if (wire === WIRE_VARINT && field === F_PERIOD) {
      period = BigInt.asIntN(64, cursor.varintBigAt(cursor.pos));
    } else if (wire === WIRE_VARINT && field === F_DEFAULT_SAMPLE_TYPE) {
      defaultIdx = cursor.safeVarint('a default_sample_type string index');
    } else {
      cursor.skip(wire);
    }
  }
  const text = stringReader(buf, stringSpans);
  return {
    sampleTypes: refs.map((r) => ({ type: text(r.typeIdx, r.at), unit: text(r.unitIdx, r.at) })),
    periodType: periodTypeRef ? { type: text(periodTypeRef.typeIdx, periodTypeRef.at), unit: text(periodTypeRef.unitIdx, periodTypeRef.at) } : null,
    period,
    defaultSampleType: defaultIdx === 0 ? null : text(defaultIdx, 0),
  };
}

function readValueType(sub: ProtoCursor): { typeIdx: number; unitIdx: number } {
  let typeIdx = 0;
  let unitIdx = 0;
  while (sub.pos < sub.end) {
    const tag = sub.tag();
    if (tag === 8) typeIdx = sub.safeVarint('a string index');
    else if (tag === 16) unitIdx = sub.safeVarint('a string index');
    else sub.skip(tag & 7);
  }
  return { typeIdx, unitIdx };
}

const utf8 = new TextDecoder('utf-8');

function stringReader(buf: Uint8Array, spans: readonly number[]): (idx: number, at: number) => string {
  return (idx, at) => {
    if (idx * 2 + 1 >= spans.length) {
      throw new ProfileDecodeError('pprof', `expected a string index below ${spans.length / 2}, found ${idx}`, { offset: at });
    }
    return utf8.decode(buf.subarray(spans[idx * 2]!, spans[idx * 2 + 1]!));
  };
}
