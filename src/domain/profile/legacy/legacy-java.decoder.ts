import { decodeUtf8, goParseInt, goParseUint, goTrimSpace } from './go-text';
import {
  legacyError,
  LegacyUnrecognized,
  LocationTable,
  parseHexAddresses,
  type LegacyProfile,
} from './legacy-profile';
import { scaleHeapSample } from './legacy-heap.decoder';
import { remapMappings } from './memory-map';

const ATTRIBUTE = /([\w ]+)=([\w ]+)/;
const JAVA_SAMPLE = / *(\d+) +(\d+) +@ +([ x0-9a-f]*)/;
// Go's `.` matches anything but \n (JavaScript's also stops at \r, U+2028, U+2029): spelled [^\n] here.
const JAVA_LOCATION = /^[\t\n\f\r ]*0x([0-9A-Fa-f]+)[\t\n\f\r ]+([^\n]*)[\t\n\f\r ]*$/;
const JAVA_FILE_LINE = /^([^\n]*)[\t\n\f\r ]+\(([^\n]+):(-?[0-9]+)\)$/;
const JAVA_PATH = /^([^\n]*)[\t\n\f\r ]+\(([^\n]*)\)$/;

/** Java heapz profiles are sampled every 512 KiB on average (pprof's javaHeapzSamplingRate). */
const JAVA_HEAPZ_SAMPLING_RATE = 524288n;

type JavaType = 'heap' | 'contention';

/** Splits `b` after each newline like bytes.IndexByte loops: complete lines only, with the offset of each. */
function* completeLines(b: Uint8Array, from: number): Generator<{ text: string; start: number; next: number }> {
  let at = from;
  for (let nl = b.indexOf(10, at); nl !== -1; nl = b.indexOf(10, at)) {
    yield { text: goTrimSpace(decodeUtf8(b.subarray(at, nl))), start: at, next: nl + 1 };
    at = nl + 1;
  }
}

/**
 * pprof's parseJavaProfile: `--- heapz 1 ---` or `--- contentionz 1 ---`, `attribute = value` lines (format = java,
 * resolution = the unit of the second value, sampling period, ms since reset), samples `VALUE COUNT @ 0xADDR...`
 * (value first: the reverse of the other text formats), then `0xADDR function (file:line)` symbol lines.
 * Heap values are unsampled at 512 KiB; contention values are multiplied by the sampling period.
 */
export function parseJavaProfile(b: Uint8Array): LegacyProfile {
  const nl = b.indexOf(10);
  if (nl < 0) throw new LegacyUnrecognized('no newline after the first line');
  const header = goTrimSpace(decodeUtf8(b.subarray(0, nl)));
  let type: JavaType;
  if (header === '--- heapz 1 ---') type = 'heap';
  else if (header === '--- contentionz 1 ---') type = 'contention';
  else throw new LegacyUnrecognized(`not a Java heapz/contentionz header: ${JSON.stringify(header.slice(0, 60))}`);
  const p: LegacyProfile = {
    kind: type === 'heap' ? 'java-heap' : 'java-contention',
    sampleTypes: [],
    periodType: { type: '', unit: '' },
    period: 0n,
    durationNanos: 0n,
    samples: [],
    mappings: [],
  };
  const afterHeader = parseJavaHeader(type, b, nl + 1, p);
  const { rest, locations } = parseJavaSamples(type, b, afterHeader, p);
  parseJavaLocations(b.subarray(rest), locations, p);
  return p;
}

function parseJavaHeader(type: JavaType, b: Uint8Array, from: number, p: LegacyProfile): number {
  for (const line of completeLines(b, from)) {
    if (line.text === '') continue;
    const h = ATTRIBUTE.exec(line.text);
    if (!h) return line.start;
    const attribute = goTrimSpace(h[1]!);
    const value = goTrimSpace(h[2]!);
    switch (`${type}/${attribute}`) {
      case 'heap/format':
      case 'contention/format':
        if (value !== 'java') throw new LegacyUnrecognized(`format = ${value}, not java`);
        break;
      case 'heap/resolution':
        p.sampleTypes.splice(
          0,
          p.sampleTypes.length,
          { type: 'inuse_objects', unit: 'count' },
          { type: 'inuse_space', unit: value },
        );
        break;
      case 'contention/resolution':
        p.sampleTypes.splice(
          0,
          p.sampleTypes.length,
          { type: 'contentions', unit: 'count' },
          { type: 'delay', unit: value },
        );
        break;
      case 'contention/sampling period': {
        p.periodType = { type: 'contentions', unit: 'count' };
        const v = goParseInt(value, 0);
        if (v === null) throw legacyError(p.kind, `failed to parse attribute ${line.text}`, { offset: line.start });
        p.period = v;
        break;
      }
      case 'contention/ms since reset': {
        const v = goParseInt(value, 0);
        if (v === null) throw legacyError(p.kind, `failed to parse attribute ${line.text}`, { offset: line.start });
        p.durationNanos = BigInt.asIntN(64, v * 1000000n);
        break;
      }
      default:
        throw new LegacyUnrecognized(`unknown Java ${type} attribute ${JSON.stringify(attribute)}`);
    }
  }
  return b.length;
}

function parseJavaSamples(
  type: JavaType,
  b: Uint8Array,
  from: number,
  p: LegacyProfile,
): { rest: number; locations: LocationTable } {
  const table = new LocationTable();
  for (const line of completeLines(b, from)) {
    if (line.text === '') continue;
    const m = JAVA_SAMPLE.exec(line.text);
    if (!m) return { rest: line.start, locations: table };
    const addrs = parseHexAddresses(m[3]!, p.kind, { offset: line.start });
    const locations = addrs.map((a) => table.get(a));
    let v0 = goParseInt(m[2]!, 0);
    let v1 = goParseInt(m[1]!, 0);
    if (v0 === null || v1 === null)
      throw legacyError(p.kind, `parsing sample ${line.text}: not an int64`, { offset: line.start });
    if (type === 'heap') {
      if (v0 === 0n)
        throw legacyError(p.kind, `parsing sample ${line.text}: second value must be non-zero`, { offset: line.start });
      [v0, v1] = scaleHeapSample(v0, v1, JAVA_HEAPZ_SAMPLING_RATE);
    } else if (p.period !== 0n) {
      v0 = BigInt.asIntN(64, v0 * p.period);
      v1 = BigInt.asIntN(64, v1 * p.period);
    }
    p.samples.push({ values: [v0, v1], locations });
  }
  return { rest: b.length, locations: table };
}

/**
 * pprof's parseJavaLocations: `0xADDR name (File.java:line)`, `0xADDR name (path/lib.so)`, a line mentioning
 * `generated stub/JIT` (function STUB) or `0xADDR text` (the text is the name, e.g. GC or VM) give the function of
 * the location at that address; addresses no sample uses are ignored. Then locations still without a symbol get
 * a mapping (none here: a fake one, printed `<unknown>`).
 */
export function parseJavaLocations(b: Uint8Array, table: LocationTable, p: LegacyProfile): void {
  let at = 0;
  while (at < b.length) {
    const nl = b.indexOf(10, at);
    const end = nl < 0 ? b.length : nl + 1;
    const lineStart = at;
    const line = goTrimSpace(decodeUtf8(b.subarray(at, end)));
    at = end;
    if (line === '') continue;
    const jloc = JAVA_LOCATION.exec(line);
    if (!jloc) continue;
    const address = goParseUint(jloc[1]!, 16);
    if (address === null)
      throw legacyError(p.kind, `parsing sample ${line}: address out of range`, { offset: lineStart });
    const loc = table.byAddress.get(address);
    if (!loc) continue;
    loc.functionName = javaFunctionName(jloc[2]!);
    loc.address = 0n;
  }
  remapMappings(p);
}

function javaFunctionName(text: string): string {
  const fileLine = JAVA_FILE_LINE.exec(text);
  if (fileLine) return fileLine[1]!;
  const path = JAVA_PATH.exec(text);
  if (path) return path[1]!; // the file (a library path) is not part of the name at function granularity
  if (text.includes('generated stub/JIT')) return 'STUB';
  return text;
}
