import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Label, Location, Mapping, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { BENCH_TMP } from './go-workload';

/** Uncompressed size the scale inputs are grown to: the "18 MB label-heavy runtime/pprof profile". */
export const SCALE_TARGET_BYTES = 18_000_000;
/** Bump when the way the scale inputs are built changes, so cached files are rebuilt. */
const GENERATOR_VERSION = '2';

/**
 * Builds the ~18 MB label-heavy scale input from a real Go workload profile (bench/workloads/labels): the real
 * samples (stacks and values) are replayed in order, round after round, until the encoded profile reaches
 * `SCALE_TARGET_BYTES`; each replayed sample is a new request, so it gets fresh unique `request_id`, `trace_id` and
 * `span_id` values (in the formats the workload writes) while keeping its real low-cardinality `endpoint` and
 * `tenant`. Locations, functions, mappings, sample types and period are the real ones; the string table holds only
 * strings that are referenced, as runtime/pprof writes it. Encoded with pprof-format. Cached in .bench-tmp.
 */
export function labelHeavyScaleProfile(realLabelled: string): string {
  return cached('scale-labels-heavy', realLabelled, () => {
    const real = decode(realLabelled);
    const out = rebuiltProfile(real);
    const strings = out.stringTable;
    const keyOf = (k: string) => strings.dedup(k);
    const keys = { request: keyOf('request_id'), trace: keyOf('trace_id'), span: keyOf('span_id') };
    const realStr = (i: number | bigint) => real.stringTable.strings[Number(i)]!;
    const rng = splitMix64(0x5eedn);
    const samples: Sample[] = [];
    let bytes = out.length;
    let counted = strings.strings.length;
    for (let round = 0; bytes < SCALE_TARGET_BYTES; round++) {
      for (const s of real.sample) {
        if (bytes >= SCALE_TARGET_BYTES) break;
        const seed = rng();
        const kept = s.label
          .filter((l) => ['endpoint', 'tenant'].includes(realStr(l.key)))
          .map((l) => new Label({ key: strings.dedup(realStr(l.key)), str: strings.dedup(realStr(l.str)) }));
        const sample = new Sample({
          locationId: s.locationId,
          value: s.value,
          label: [
            new Label({ key: keys.request, str: strings.dedup(`req-${(seed >> 20n).toString(36)}`) }),
            new Label({ key: keys.trace, str: strings.dedup(hex(seed) + hex(BigInt.asUintN(64, ~seed))) }),
            new Label({ key: keys.span, str: strings.dedup(hex(BigInt.asUintN(64, seed * 31n))) }),
            ...kept,
          ],
        });
        samples.push(sample);
        bytes += fieldBytes(sample.length);
        while (counted < strings.strings.length) bytes += fieldBytes(Buffer.byteLength(strings.strings[counted++]!));
      }
    }
    out.sample = samples;
    return out.encode();
  });
}

/**
 * Builds the ~18 MB label-free scale input from a real unlabelled Go workload profile, as a merge of the same
 * service's profiles from several builds: every round is one build, with its own mappings (build id suffix `-N`) and its
 * own locations (addresses shifted by the build) naming the same functions, so every stack of the result is
 * distinct (what `pprof -proto` writes when it merges profiles of different binaries). Encoded with pprof-format.
 */
export function labelFreeScaleProfile(realUnlabelled: string): string {
  return cached('scale-labels-free', realUnlabelled, () => {
    const real = decode(realUnlabelled);
    const out = rebuiltProfile(real);
    const realMappings = out.mapping;
    const realLocations = out.location;
    const maxMapping = Math.max(0, ...realMappings.map((m) => Number(m.id)));
    const maxLocation = Math.max(0, ...realLocations.map((l) => Number(l.id)));
    out.mapping = [];
    out.location = [];
    // Later builds have larger location ids (longer varints), so measure the encoded size after each build.
    for (let b = 0; b === 0 || out.length < SCALE_TARGET_BYTES; b++) {
      for (const m of realMappings) {
        const buildId = out.stringTable.dedup(`${out.stringTable.strings[Number(m.buildId)] || 'build'}-${b}`);
        out.mapping.push(new Mapping({ ...m, id: Number(m.id) + b * maxMapping, buildId }));
      }
      for (const l of realLocations) {
        out.location.push(
          new Location({
            ...l,
            id: Number(l.id) + b * maxLocation,
            mappingId: Number(l.mappingId) === 0 ? 0 : Number(l.mappingId) + b * maxMapping,
            address: Number(l.address) + b * 0x1000,
          }),
        );
      }
      for (const s of real.sample) {
        out.sample.push(
          new Sample({ locationId: s.locationId.map((id) => Number(id) + b * maxLocation), value: s.value }),
        );
      }
    }
    return out.encode();
  });
}

/** A copy of `real` without samples and with a fresh string table holding only what functions, mappings and headers reference. */
function rebuiltProfile(real: Profile): Profile {
  const strings = new StringTable();
  const s = (i: number | bigint) => strings.dedup(real.stringTable.strings[Number(i)]!);
  const vt = (v: ValueType) => new ValueType({ type: s(v.type), unit: s(v.unit) });
  return new Profile({
    sampleType: real.sampleType.map(vt),
    sample: [],
    mapping: real.mapping.map((m) => new Mapping({ ...m, filename: s(m.filename), buildId: s(m.buildId) })),
    location: real.location,
    function: real.function.map((f) =>
      Object.assign(f, { name: s(f.name), systemName: s(f.systemName), filename: s(f.filename) }),
    ),
    stringTable: strings,
    dropFrames: s(real.dropFrames),
    keepFrames: s(real.keepFrames),
    timeNanos: real.timeNanos,
    durationNanos: real.durationNanos,
    ...(real.periodType ? { periodType: vt(real.periodType) } : {}),
    period: real.period,
    comment: real.comment.map(s),
    defaultSampleType: s(real.defaultSampleType),
  });
}

function decode(path: string): Profile {
  const bytes = readFileSync(path);
  return Profile.decode(bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes);
}

/** Wire size of a length-delimited field with a one-byte tag and a payload of `length` bytes. */
function fieldBytes(length: number): number {
  let varint = 1;
  for (let v = length; v >= 0x80; v = Math.floor(v / 0x80)) varint++;
  return 1 + varint + length;
}

function hex(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

/** Deterministic 64-bit generator (SplitMix64), so a rebuilt input is byte-identical. */
function splitMix64(seed: bigint): () => bigint {
  let state = seed;
  return () => {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  };
}

/** Builds `name`.pb in .bench-tmp from `source` unless a file built from the same source by this generator version exists. */
function cached(name: string, source: string, build: () => Uint8Array): string {
  const out = join(BENCH_TMP, `${name}.pb`);
  const stamp = `${out}.key`;
  const key = createHash('sha256')
    .update(readFileSync(source))
    .update(GENERATOR_VERSION)
    .update(String(SCALE_TARGET_BYTES))
    .digest('hex')
    .slice(0, 16);
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return out;
  process.stdout.write(`building ${name}.pb (~${(SCALE_TARGET_BYTES / 1e6).toFixed(0)} MB) from ${source}...\n`);
  writeFileSync(`${out}.tmp`, build());
  renameSync(`${out}.tmp`, out);
  writeFileSync(stamp, key);
  return out;
}
