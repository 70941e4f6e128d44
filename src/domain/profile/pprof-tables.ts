import type { PprofIndex, ValueTypeRef } from './pprof-index';
import type { ValueType } from './profile.types';
import { ProfileDecodeError } from './profile-decode.error';

const utf8 = new TextDecoder('utf-8');

/**
 * The string table and id lookups of a pprof profile, validated the way `go tool pprof` validates them
 * (profile.postDecode and CheckValid): string index 0 is the empty string, every string index is in range,
 * mapping/function/location ids are non-zero and unique, every Line names an existing function. A location whose
 * mapping id is unknown has no mapping, as in pprof.
 */
export class PprofTables {
  readonly stringCount: number;
  readonly locationIndexById = new IdIndex();
  readonly functionIndexById = new IdIndex();
  readonly mappingIndexById = new IdIndex();
  private readonly cache: (string | undefined)[] = [];

  /** @param fixDotnet repair the function ids of Pyroscope's old .NET profiler first (`fixBrokenDotnetFunctionIds`). */
  constructor(
    readonly ix: PprofIndex,
    fixDotnet = false,
  ) {
    this.stringCount = ix.strings.length / 2;
    this.checkStringTable();
    if (fixDotnet) fixBrokenDotnetFunctionIds(ix);
    this.indexIds('mapping', ix.mappings.ids.data, ix.mappings.ids.length, this.mappingIndexById);
    this.indexIds('function', ix.functions.ids.data, ix.functions.ids.length, this.functionIndexById);
    this.indexIds('location', ix.locations.ids.data, ix.locations.ids.length, this.locationIndexById);
    this.checkStringRefs();
    this.checkLineFunctions();
  }

  /** Decodes string `idx` (invalid UTF-8 becomes U+FFFD, as a replacement rather than an error; Go keeps raw bytes). */
  string(idx: number): string {
    let s = this.cache[idx];
    if (s === undefined) {
      const st = this.ix.strings.data;
      s = utf8.decode(this.ix.buf.subarray(st[2 * idx]!, st[2 * idx + 1]!));
      this.cache[idx] = s;
    }
    return s;
  }

  /** True when string `idx` has exactly the UTF-8 bytes given (compares without decoding). */
  stringEquals(idx: number, bytes: Uint8Array): boolean {
    const st = this.ix.strings.data;
    const start = st[2 * idx]!;
    const end = st[2 * idx + 1]!;
    if (end - start !== bytes.length) return false;
    const buf = this.ix.buf;
    for (let i = 0; i < bytes.length; i++) if (buf[start + i] !== bytes[i]) return false;
    return true;
  }

  valueType(ref: ValueTypeRef): ValueType {
    return { type: this.string(ref.typeIdx), unit: this.string(ref.unitIdx) };
  }

  /** Throws unless `idx` is a valid string index. */
  checkString(idx: number, what: string): void {
    if (!(idx >= 0 && idx < this.stringCount)) {
      throw new ProfileDecodeError(
        'pprof',
        `${what} refers to string ${idx}, but the string table has ${this.stringCount} entries`,
      );
    }
  }

  private checkStringTable(): void {
    if (this.stringCount === 0)
      throw new ProfileDecodeError('pprof', 'expected a string table, found none (not a pprof profile?)');
    const st = this.ix.strings.data;
    if (st[1] !== st[0])
      throw new ProfileDecodeError('pprof', 'expected string_table[0] to be the empty string', { offset: st[0]! });
  }

  private indexIds(kind: string, ids: Float64Array, count: number, byId: IdIndex): void {
    byId.reserve(ids, count);
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      if (id === 0)
        throw new ProfileDecodeError(
          'pprof',
          `found ${kind} with reserved ID=0 (${kind} #${i + 1}); go tool pprof rejects such profiles too`,
        );
      if (byId.has(id)) throw new ProfileDecodeError('pprof', `multiple ${kind}s with the same id ${id}`);
      byId.set(id, i);
    }
  }

  private checkStringRefs(): void {
    const { ix } = this;
    checkAll(this, ix.mappings.fileIdx, 'mapping filename');
    checkAll(this, ix.mappings.buildIdIdx, 'mapping build_id');
    checkAll(this, ix.functions.nameIdx, 'function name');
    checkAll(this, ix.functions.systemNameIdx, 'function system_name');
    checkAll(this, ix.functions.filenameIdx, 'function filename');
    for (const st of ix.sampleTypes) {
      this.checkString(st.typeIdx, 'sample_type.type');
      this.checkString(st.unitIdx, 'sample_type.unit');
    }
    const s = ix.scalars;
    if (s.periodType) {
      this.checkString(s.periodType.typeIdx, 'period_type.type');
      this.checkString(s.periodType.unitIdx, 'period_type.unit');
    }
    this.checkString(s.defaultSampleTypeIdx, 'default_sample_type');
    this.checkString(s.dropFramesIdx, 'drop_frames');
    this.checkString(s.keepFramesIdx, 'keep_frames');
    for (const c of s.commentIdx) this.checkString(c, 'comment');
  }

  private checkLineFunctions(): void {
    const loc = this.ix.locations;
    for (let i = 0; i < loc.ids.length; i++) {
      const start = loc.lineStart.data[i]!;
      const end = start + loc.lineCount.data[i]!;
      for (let j = start; j < end; j++) {
        const fid = loc.lineFunctionIds.data[j]!;
        if (!this.functionIndexById.has(fid)) {
          throw new ProfileDecodeError(
            'pprof',
            `location id ${loc.ids.data[i]} has a line with unknown function id ${fid}`,
          );
        }
      }
    }
  }
}

/**
 * Pyroscope's .NET profiler wrote every function with id 0 and one function per location, in location order; Pyroscope
 * gives function i the id of location i (pkg/og/convert/pprof/profile.go `FixFunctionIDForBrokenDotnet`, commit
 * 3fe6a457 of grafana/pyroscope) when a `/ingest` push comes from `dotnetspy`, and reads the profile. Its Connect push
 * and `go tool pprof` refuse such profiles ("function id is 0", pkg/test/integration/ingest_pprof_test.go), so the
 * repair is asked for by the caller; anything else with a function id 0 is still refused.
 */
function fixBrokenDotnetFunctionIds(ix: PprofIndex): void {
  const functions = ix.functions.ids;
  const locations = ix.locations.ids;
  if (functions.length === 0 || functions.length !== locations.length) return;
  for (let i = 0; i < functions.length; i++) if (functions.data[i] !== 0) return;
  for (let i = 0; i < functions.length; i++) functions.data[i] = locations.data[i]!;
}

function checkAll(tables: PprofTables, list: { data: Float64Array; length: number }, what: string): void {
  for (let i = 0; i < list.length; i++) tables.checkString(list.data[i]!, what);
}

/**
 * id -> table index. Producers number ids 1..n, so a dense array serves almost every lookup (a Map keyed by
 * doubles was the fold's top cost); ids far above the table size fall back to a Map.
 */
export class IdIndex {
  private dense = new Int32Array(0);
  private readonly sparse = new Map<number, number>();

  /** Sizes the dense part for these ids: up to 4x the count (plus slack), beyond that they go to the Map. */
  reserve(ids: Float64Array, count: number): void {
    let max = 0;
    for (let i = 0; i < count; i++) if (ids[i]! > max) max = ids[i]!;
    this.dense = new Int32Array(Math.min(max, 4 * count + 1024) + 1);
  }

  get(id: number): number | undefined {
    if (id < this.dense.length) {
      const v = this.dense[id]!;
      return v === 0 ? undefined : v - 1;
    }
    return this.sparse.get(id);
  }

  /** The dense part: `table[id]` is the index + 1 for ids below its length, 0 when unknown. Read only. */
  denseTable(): Int32Array {
    return this.dense;
  }

  /** Like `get`, with -1 for an unknown id (no undefined on the per-location path of the fold). */
  indexOf(id: number): number {
    if (id < this.dense.length) return this.dense[id]! - 1;
    const v = this.sparse.get(id);
    return v === undefined ? -1 : v;
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  set(id: number, index: number): void {
    if (id < this.dense.length && Number.isInteger(id)) this.dense[id] = index + 1;
    else this.sparse.set(id, index);
  }
}
