import { GrowableFloat64, GrowableUint32 } from './growable';
import { ProtoCursor, WIRE_LEN, WIRE_VARINT } from './proto-cursor';

/** A ValueType as string-table indices. */
export interface ValueTypeRef {
  readonly typeIdx: number;
  readonly unitIdx: number;
}

/**
 * What the first pass over a pprof message records: the small tables decoded, the large ones (samples, strings)
 * only as byte offsets so that the second pass reads samples once and decodes only the strings the fold needs.
 */
export interface PprofIndex {
  readonly buf: Uint8Array;
  readonly sampleTypes: ValueTypeRef[];
  /** Sample message payloads as [start, end) pairs. */
  readonly samples: GrowableUint32;
  /** String table entries as [start, end) pairs. */
  readonly strings: GrowableUint32;
  readonly mappings: {
    readonly ids: GrowableFloat64;
    readonly fileIdx: GrowableFloat64;
    readonly buildIdIdx: GrowableFloat64;
  };
  readonly functions: {
    readonly ids: GrowableFloat64;
    readonly nameIdx: GrowableFloat64;
    readonly systemNameIdx: GrowableFloat64;
    readonly filenameIdx: GrowableFloat64;
    /** Function.start_line (0 when absent): what Go's PGO measures call-site offsets from. */
    readonly startLine: GrowableFloat64;
  };
  readonly locations: {
    readonly ids: GrowableFloat64;
    readonly mappingIds: GrowableFloat64;
    readonly lineStart: GrowableUint32;
    readonly lineCount: GrowableUint32;
    /** Function id of every Line of every location, in file order (leaf-most inlined frame first). */
    readonly lineFunctionIds: GrowableFloat64;
    /** Line.line of every Line, parallel to `lineFunctionIds` (0 when absent). */
    readonly lineNumbers: GrowableFloat64;
  };
  /** Scalar fields; string indices are -1 when absent... except where pprof's default (0, the empty string) applies. */
  scalars: {
    periodType: ValueTypeRef | null;
    period: bigint;
    timeNanos: bigint;
    durationNanos: bigint;
    defaultSampleTypeIdx: number;
    dropFramesIdx: number;
    keepFramesIdx: number;
    commentIdx: number[];
  };
}

/** Profile message field numbers (profile.proto). */
const F_SAMPLE_TYPE = 1;
const F_SAMPLE = 2;
const F_MAPPING = 3;
const F_LOCATION = 4;
const F_FUNCTION = 5;
const F_STRING_TABLE = 6;
const F_DROP_FRAMES = 7;
const F_KEEP_FRAMES = 8;
const F_TIME_NANOS = 9;
const F_DURATION_NANOS = 10;
const F_PERIOD_TYPE = 11;
const F_PERIOD = 12;
const F_COMMENT = 13;
const F_DEFAULT_SAMPLE_TYPE = 14;

/** One-byte tags of length-delimited `sample` (field 2) and `string_table` (field 6) entries. */
const SAMPLE_TAG = (F_SAMPLE << 3) | WIRE_LEN;
const STRING_TAG = (F_STRING_TABLE << 3) | WIRE_LEN;

/**
 * First pass: walks the top-level fields of a pprof Profile message once. Samples and strings are recorded as
 * offsets; mappings, functions and locations (small in practice) are decoded into flat arrays.
 */
export function indexPprof(buf: Uint8Array): PprofIndex {
  const cursor = new ProtoCursor(buf);
  cursor.reset(0, buf.length);
  const ix = emptyIndex(buf);
  const sub = new ProtoCursor(buf);
  while (cursor.pos < cursor.end) {
    const tagStart = cursor.pos;
    // Fast path for the two fields that make up nearly all of a large profile: samples and strings (one-byte tags).
    const first = buf[tagStart]!;
    if (first === SAMPLE_TAG || first === STRING_TAG) {
      cursor.pos = tagStart + 1;
      const end = cursor.lengthDelimitedEnd();
      const list = first === SAMPLE_TAG ? ix.samples : ix.strings;
      list.push(cursor.pos);
      list.push(end);
      cursor.pos = end;
      continue;
    }
    const tag = cursor.tag();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === WIRE_LEN) {
      const start = cursor.pos;
      const end = cursor.lengthDelimitedEnd();
      const payloadStart = cursor.pos;
      cursor.pos = end;
      sub.reset(payloadStart, end);
      readLengthDelimited(ix, field, sub, payloadStart, end, start);
    } else if (wireType === WIRE_VARINT) {
      const start = cursor.pos;
      const value = cursor.varint();
      readVarintField(ix, field, value, cursor, start);
    } else {
      if (field <= F_DEFAULT_SAMPLE_TYPE)
        cursor.fail(`field ${field} with its proper wire type, found wire type ${wireType}`, tagStart);
      cursor.skip(wireType);
    }
  }
  return ix;
}

function emptyIndex(buf: Uint8Array): PprofIndex {
  return {
    buf,
    sampleTypes: [],
    samples: new GrowableUint32(4096),
    strings: new GrowableUint32(4096),
    mappings: { ids: new GrowableFloat64(16), fileIdx: new GrowableFloat64(16), buildIdIdx: new GrowableFloat64(16) },
    functions: {
      ids: new GrowableFloat64(),
      nameIdx: new GrowableFloat64(),
      systemNameIdx: new GrowableFloat64(),
      filenameIdx: new GrowableFloat64(),
      startLine: new GrowableFloat64(),
    },
    locations: {
      ids: new GrowableFloat64(),
      mappingIds: new GrowableFloat64(),
      lineStart: new GrowableUint32(),
      lineCount: new GrowableUint32(),
      lineFunctionIds: new GrowableFloat64(),
      lineNumbers: new GrowableFloat64(),
    },
    scalars: {
      periodType: null,
      period: 0n,
      timeNanos: 0n,
      durationNanos: 0n,
      defaultSampleTypeIdx: 0,
      dropFramesIdx: 0,
      keepFramesIdx: 0,
      commentIdx: [],
    },
  };
}

function readLengthDelimited(
  ix: PprofIndex,
  field: number,
  sub: ProtoCursor,
  start: number,
  end: number,
  at: number,
): void {
  switch (field) {
    case F_SAMPLE:
      ix.samples.push(start);
      ix.samples.push(end);
      return;
    case F_STRING_TABLE:
      ix.strings.push(start);
      ix.strings.push(end);
      return;
    case F_SAMPLE_TYPE:
      ix.sampleTypes.push(readValueType(sub));
      return;
    case F_LOCATION:
      readLocation(ix, sub);
      return;
    case F_FUNCTION:
      readFunction(ix, sub);
      return;
    case F_MAPPING:
      readMapping(ix, sub);
      return;
    case F_PERIOD_TYPE:
      ix.scalars.periodType = readValueType(sub);
      return;
    case F_COMMENT:
      while (sub.pos < sub.end) ix.scalars.commentIdx.push(sub.varint());
      return;
    default:
      if (isVarintField(field)) sub.fail(`field ${field} as a varint, found a length-delimited field`, at);
  }
}

function isVarintField(field: number): boolean {
  return field >= F_DROP_FRAMES && field <= F_DEFAULT_SAMPLE_TYPE && field !== F_PERIOD_TYPE && field !== F_COMMENT;
}

function readVarintField(ix: PprofIndex, field: number, value: number, cursor: ProtoCursor, start: number): void {
  const s = ix.scalars;
  switch (field) {
    case F_DROP_FRAMES:
      s.dropFramesIdx = value;
      return;
    case F_KEEP_FRAMES:
      s.keepFramesIdx = value;
      return;
    case F_TIME_NANOS:
      s.timeNanos = BigInt.asIntN(64, cursor.varintBigAt(start));
      return;
    case F_DURATION_NANOS:
      s.durationNanos = BigInt.asIntN(64, cursor.varintBigAt(start));
      return;
    case F_PERIOD:
      s.period = BigInt.asIntN(64, cursor.varintBigAt(start));
      return;
    case F_COMMENT:
      s.commentIdx.push(value);
      return;
    case F_DEFAULT_SAMPLE_TYPE:
      s.defaultSampleTypeIdx = value;
      return;
    default:
      if (field <= F_STRING_TABLE || field === F_PERIOD_TYPE)
        cursor.fail(`field ${field} as a length-delimited field, found a varint`, start);
  }
}

function readValueType(sub: ProtoCursor): ValueTypeRef {
  let typeIdx = 0;
  let unitIdx = 0;
  while (sub.pos < sub.end) {
    const tag = sub.tag();
    if (tag === 8) typeIdx = sub.varint();
    else if (tag === 16) unitIdx = sub.varint();
    else sub.skip(tag & 7);
  }
  return { typeIdx, unitIdx };
}

function readMapping(ix: PprofIndex, sub: ProtoCursor): void {
  let id = 0;
  let fileIdx = 0;
  let buildIdIdx = 0;
  while (sub.pos < sub.end) {
    const tag = sub.tag();
    if (tag === 8) id = sub.safeVarint('a mapping id');
    else if (tag === 40) fileIdx = sub.varint();
    else if (tag === 48) buildIdIdx = sub.varint();
    else sub.skip(tag & 7);
  }
  ix.mappings.ids.push(id);
  ix.mappings.fileIdx.push(fileIdx);
  ix.mappings.buildIdIdx.push(buildIdIdx);
}

function readFunction(ix: PprofIndex, sub: ProtoCursor): void {
  let id = 0;
  let nameIdx = 0;
  let systemNameIdx = 0;
  let filenameIdx = 0;
  let startLine = 0;
  while (sub.pos < sub.end) {
    const tag = sub.tag();
    if (tag === 8) id = sub.safeVarint('a function id');
    else if (tag === 16) nameIdx = sub.varint();
    else if (tag === 24) systemNameIdx = sub.varint();
    else if (tag === 32) filenameIdx = sub.varint();
    else if (tag === 40) startLine = sub.varint();
    else sub.skip(tag & 7);
  }
  const f = ix.functions;
  f.ids.push(id);
  f.nameIdx.push(nameIdx);
  f.systemNameIdx.push(systemNameIdx);
  f.filenameIdx.push(filenameIdx);
  f.startLine.push(startLine);
}

function readLocation(ix: PprofIndex, sub: ProtoCursor): void {
  const loc = ix.locations;
  let id = 0;
  let mappingId = 0;
  const lineStart = loc.lineFunctionIds.length;
  while (sub.pos < sub.end) {
    const tag = sub.tag();
    if (tag === 8) id = sub.safeVarint('a location id');
    else if (tag === 16) mappingId = sub.safeVarint('a mapping id');
    else if (tag === 34) readLine(sub, loc);
    else sub.skip(tag & 7);
  }
  loc.ids.push(id);
  loc.mappingIds.push(mappingId);
  loc.lineStart.push(lineStart);
  loc.lineCount.push(loc.lineFunctionIds.length - lineStart);
}

function readLine(sub: ProtoCursor, loc: PprofIndex['locations']): void {
  const end = sub.lengthDelimitedEnd();
  const outerEnd = sub.end;
  sub.end = end;
  let functionId = 0;
  let line = 0;
  while (sub.pos < end) {
    const tag = sub.tag();
    if (tag === 8) functionId = sub.safeVarint('a function id');
    else if (tag === 16) line = sub.varint();
    else sub.skip(tag & 7);
  }
  sub.end = outerEnd;
  loc.lineFunctionIds.push(functionId);
  loc.lineNumbers.push(line);
}
