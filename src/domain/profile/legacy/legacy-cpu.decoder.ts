import { int64, LineScanner } from './go-text';
import { parseJavaLocations } from './legacy-java.decoder';
import { LegacyUnrecognized, LocationTable, minusOne, type LegacyProfile, type LegacySample } from './legacy-profile';
import { parseMemoryMapFromScanner } from './memory-map';

/** Reads one header/sample word; null when fewer bytes remain than a word (pprof's getNN returning nil). */
type WordReader = { readonly size: 4 | 8; readonly name: string; read(b: Uint8Array, at: number): bigint };

const WORD_READERS: readonly WordReader[] = [
  {
    size: 4,
    name: '32-bit little-endian',
    read: (b, at) => BigInt(new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0, true)),
  },
  {
    size: 4,
    name: '32-bit big-endian',
    read: (b, at) => BigInt(new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0, false)),
  },
  {
    size: 8,
    name: '64-bit little-endian',
    read: (b, at) => new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0, true),
  },
  {
    size: 8,
    name: '64-bit big-endian',
    read: (b, at) => new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0, false),
  },
];

/** The header of a legacy binary CPU profile, if `b` starts with one: word reader, Java flag, period in µs. */
export function cpuHeader(b: Uint8Array): { words: WordReader; java: boolean; periodMicros: bigint } | null {
  for (const words of WORD_READERS) {
    if (b.length < 5 * words.size) continue;
    const n = [0, 1, 2, 3, 4].map((i) => words.read(b, i * words.size));
    if (n[0] === 0n && n[1] === 3n && (n[2] === 0n || n[2] === 1n) && n[3]! > 0n && n[4] === 0n) {
      return { words, java: n[2] === 1n, periodMicros: n[3]! };
    }
  }
  return null;
}

/**
 * pprof's parseCPU: a gperftools (profilez) binary CPU profile. Header words 0, 3, 0 (C++) or 1 (Java), the
 * sampling period in microseconds, 0; word size and byte order are whichever of 32/64-bit little/big-endian makes
 * the header read so. Then samples (count, depth, addresses, leaf first) up to a (0, 1, 0) end marker, then text:
 * a /proc/maps memory map (C++) or `0xADDR symbol` lines (Java).
 */
export function parseCpu(b: Uint8Array): LegacyProfile {
  const header = cpuHeader(b);
  if (!header) throw new LegacyUnrecognized('not a legacy binary CPU profile (no 0, 3, 0|1, period, 0 header)');
  const period = int64(header.periodMicros) * 1000n;
  const p: LegacyProfile = {
    kind: header.java ? 'java-cpu' : 'cpu',
    period: int64(period),
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    sampleTypes: [
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ],
    durationNanos: 0n,
    samples: [],
    mappings: [],
  };
  const start = 5 * header.words.size;
  const { rest, locations } = parseCpuSamples(b, start, header.words, !header.java, p);
  if (header.java) {
    parseJavaLocations(rest, locations, p);
    return p;
  }
  stripSignalFrames(p.samples);
  parseMemoryMapFromScanner(new LineScanner(rest), p);
  cleanupDuplicateLocations(p.samples);
  return p;
}

/**
 * pprof's parseCPUSamples. A sample whose depth exceeds what remains (counted in 4-byte words, as pprof does) makes
 * the input unrecognized; running out of bytes inside a stack reads the missing addresses as 0 and ends the data.
 * With `adjust`, every address but the leaf is moved back by one to land on the call instruction.
 */
function parseCpuSamples(
  b: Uint8Array,
  from: number,
  words: WordReader,
  adjust: boolean,
  p: LegacyProfile,
): { rest: Uint8Array; locations: LocationTable } {
  const table = new LocationTable();
  const size = words.size;
  let at: number | null = from;
  const read = (): bigint => {
    if (at === null || b.length - at < size) {
      at = null;
      return 0n;
    }
    const v = words.read(b, at);
    at += size;
    return v;
  };
  while (at !== null && at < b.length) {
    const sampleAt: number = at;
    const count = read();
    const depth = read();
    if (at === null || depth > BigInt(Math.floor((b.length - at) / 4))) {
      throw new LegacyUnrecognized(`binary CPU sample at byte ${sampleAt} has a stack deeper than the remaining input`);
    }
    const addrs: bigint[] = [];
    for (let i = 0; i < Number(depth); i++) addrs.push(read());
    if (count === 0n && depth === 1n && addrs[0] === 0n) break;
    const locations = addrs.map((addr, i) => table.get(adjust && i > 0 ? minusOne(addr) : addr));
    p.samples.push({ values: [int64(count), int64(int64(count) * p.period)], locations });
  }
  return { rest: at === null ? new Uint8Array(0) : b.subarray(at), locations: table };
}

/**
 * If nearly every sample (all but one in 32) has the same second frame, it is the signal handler's frame, not the
 * program's: pprof removes it from every sample, up to twice.
 */
function stripSignalFrames(samples: LegacySample[]): void {
  const margin = Math.floor(samples.length / 32);
  for (let iter = 0; iter < 2; iter++) {
    const counts = new Map<bigint, number>();
    for (const s of samples) {
      if (s.locations.length > 1) {
        const a = s.locations[1]!.address;
        counts.set(a, (counts.get(a) ?? 0) + 1);
      }
    }
    for (const [address, count] of counts) {
      if (count < samples.length - margin) continue;
      for (const s of samples) {
        if (s.locations.length > 1 && s.locations[1]!.address === address) s.locations.splice(1, 1);
      }
      break;
    }
  }
}

/** The handler may record the leaf twice (once adjusted by -1): pprof drops the duplicate. */
export function cleanupDuplicateLocations(samples: LegacySample[]): void {
  for (const s of samples) {
    const l = s.locations;
    if (l.length > 1 && l[0]!.address === BigInt.asUintN(64, l[1]!.address + 1n)) l.splice(1, 1);
  }
}
