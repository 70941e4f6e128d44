import { FoldAccumulator } from '../fold-accumulator';
import { goBase, selectSampleType } from '../pprof.decoder';
import { ProfileDecodeError } from '../profile-decode.error';
import type { Fold, FoldOptions } from '../profile.types';
import { LineScanner } from './go-text';
import { parseContention } from './legacy-contention.decoder';
import { parseGoCount, parseThread } from './legacy-count.decoder';
import { cpuHeader, parseCpu } from './legacy-cpu.decoder';
import { parseHeap } from './legacy-heap.decoder';
import { parseJavaProfile } from './legacy-java.decoder';
import { checkValid, LegacyUnrecognized, type LegacyLocation, type LegacyProfile } from './legacy-profile';

/** pprof's parseLegacy order: the first parser that recognizes the input reads it; its errors are final. */
const PARSERS: readonly ((b: Uint8Array) => LegacyProfile)[] = [
  parseCpu,
  parseHeap,
  parseGoCount,
  parseThread,
  parseContention,
  parseJavaProfile,
];

/**
 * Parses a legacy (pre-protobuf) pprof profile as `go tool pprof` does (google/pprof profile/legacy_profile.go,
 * legacy_java_profile.go): gperftools binary CPU (C++ and Java), heapz/heap/growthz/fragmentationz text, Go
 * goroutine/threadcreate count text, threadz, contentionz/mutex/contention text, Java heapz/contentionz text.
 * Throws ProfileDecodeError when no parser recognizes the input or the one that does finds it malformed.
 */
export function parseLegacyPprof(raw: Uint8Array): LegacyProfile {
  for (const parse of PARSERS) {
    let p: LegacyProfile;
    try {
      p = parse(raw);
    } catch (err: unknown) {
      if (err instanceof LegacyUnrecognized) continue;
      throw err;
    }
    checkValid(p);
    return p;
  }
  throw new ProfileDecodeError(
    'pprof',
    'unrecognized profile format: neither protobuf nor one of the legacy pprof formats (binary CPU, heapz, contentionz, threadz, Go count, Java)',
  );
}

const TEXT_HEADERS = [
  /heap profile: *\d+: *\d+ *\[ *\d+: *\d+ *\] *@ *heap/,
  /heap profile: *\d+: *\d+ *\[ *\d+: *\d+ *\] @ (growth|fragmentation)/,
  /^--- (contentionz |mutex:|contention:|heapz 1 ---)/,
  /^[^\t\n\f\r ]+ profile: total \d+$/,
  /--- threadz \d+ ---|--- Thread [0-9A-Fa-f]+ \(name: /,
];

/**
 * Whether uncompressed bytes look like a legacy pprof profile: a binary CPU header, or a first (non-blank,
 * non-comment) line that is one of the legacy text headers. Cheap; used to route input before format sniffing,
 * since e.g. `goroutine profile: total 5` would otherwise read as a folded line.
 */
export function looksLikeLegacyPprof(raw: Uint8Array): boolean {
  if (raw.length > 0 && raw[0] === 0) return cpuHeader(raw) !== null;
  const s = new LineScanner(raw.subarray(0, 4096));
  while (s.scan()) {
    const line = s.text.trim();
    if (line === '' || line.startsWith('#')) continue;
    return TEXT_HEADERS.some((re) => re.test(line));
  }
  return false;
}

/**
 * Decodes and folds a legacy pprof profile with `go tool pprof -top -symbolize=none` semantics: these profiles are
 * address-only (except Java's), so a frame prints as its function name when it has one, else as
 * `[basename of its mapping file]`, else `<unknown>`. Legacy profiles carry no string labels: with label keys
 * requested, everything is one `{}` slice.
 */
export function foldLegacyPprof(raw: Uint8Array, options: FoldOptions = {}): Fold {
  const p = parseLegacyPprof(raw);
  // pprof's driver refuses a profile without sample types (a Java heapz/contentionz without `resolution`).
  if (p.sampleTypes.length === 0)
    throw new ProfileDecodeError(
      'pprof',
      `legacy ${p.kind} profile has no sample types (pprof: "profile has no samples")`,
    );
  const valueIndex = selectSampleType(p.sampleTypes, '', options.sampleType);
  const acc = new FoldAccumulator();
  const slice = options.labelKeys && options.labelKeys.length > 0 ? acc.slice({}) : undefined;
  const nodeOf = new Map<LegacyLocation, number>();
  let nodes = new Int32Array(256);
  for (const s of p.samples) {
    if (s.locations.length > nodes.length) nodes = new Int32Array(Math.max(s.locations.length, nodes.length * 2));
    s.locations.forEach((loc, i) => {
      let node = nodeOf.get(loc);
      if (node === undefined) {
        node = acc.intern(frameName(loc));
        nodeOf.set(loc, node);
      }
      nodes[i] = node;
    });
    acc.add(nodes, s.locations.length, s.values[valueIndex]!, slice);
  }
  const r = acc.result();
  return {
    format: 'pprof',
    sampleType: p.sampleTypes[valueIndex] ?? { type: '', unit: '' },
    sampleTypes: p.sampleTypes,
    periodType: p.periodType && (p.periodType.type !== '' || p.periodType.unit !== '') ? p.periodType : null,
    period: p.period,
    timeNanos: 0n,
    durationNanos: p.durationNanos,
    sampleCount: p.samples.length,
    total: r.total,
    absoluteTotal: r.absoluteTotal,
    functions: r.functions,
    ...(slice ? { slices: r.slices, droppedLabelKeys: [] } : {}),
  };
}

function frameName(loc: LegacyLocation): string {
  if (loc.functionName) return loc.functionName;
  const file = loc.mapping?.file ?? '';
  return file === '' ? '<unknown>' : `[${goBase(file)}]`;
}
