import { goParseInt, goTrimSpace, int64OfFloat, LineScanner } from './go-text';
import {
  legacyError,
  LegacyUnrecognized,
  LocationTable,
  minusOne,
  parseHexAddresses,
  type LegacyProfile,
} from './legacy-profile';
import { isMemoryMapSentinel, parseAdditionalSections } from './memory-map';

const HEAP_HEADER = /heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] *@ *(heap[_a-z0-9]*)\/?(\d*)/;
const HEAP_SAMPLE = /(-?\d+): *(-?\d+) *\[ *(\d+): *(\d+) *] @([ x0-9a-f]*)/;
const GROWTH_HEADER = /heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] @ growthz?/;
const FRAGMENTATION_HEADER = /heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] @ fragmentationz?/;

/**
 * pprof's scaleHeapSample: a heapz v2 profile samples allocations by a Poisson process of mean `rate` bytes, so an
 * allocation of average size S was recorded with probability 1 - e^(-S/rate); count and size are divided by it
 * (in float64, truncated to int64, as Go does). rate <= 1 means every allocation was recorded (or unknown).
 */
export function scaleHeapSample(count: bigint, size: bigint, rate: bigint): [bigint, bigint] {
  if (count === 0n || size === 0n) return [0n, 0n];
  if (rate <= 1n) return [count, size];
  const avgSize = Number(size) / Number(count);
  const scale = 1 / (1 - Math.exp(-avgSize / Number(rate)));
  return [int64OfFloat(Number(count) * scale), int64OfFloat(Number(size) * scale)];
}

/**
 * pprof's parseHeap: the text heap profiles of gperftools/heapz and of Go before protobuf. The first line is
 * `heap profile: N: BYTES [ N: BYTES] @ heap_v2/RATE` (or heapz_v2, heap (Go: the rate is twice the period),
 * heapprofile, growthz, fragmentationz); then `INUSE_N: INUSE_BYTES [ALLOC_N: ALLOC_BYTES] @ 0xADDR...` lines
 * until a memory-map sentinel. Allocation columns become sample types only when the header's differ from in-use.
 */
export function parseHeap(b: Uint8Array): LegacyProfile {
  const s = new LineScanner(b);
  if (!s.scan()) {
    if (s.tooLong) throw legacyError('heap', 'first line too long (pprof reads lines of at most 64 KiB)', { line: 1 });
    throw new LegacyUnrecognized('empty input');
  }
  const first = s.text;
  let sampling = '';
  let hasAlloc = false;
  let period: bigint;
  if (HEAP_HEADER.test(first)) ({ sampling, period, hasAlloc } = parseHeapHeader(first));
  else if (GROWTH_HEADER.test(first) || FRAGMENTATION_HEADER.test(first)) period = 1n;
  else throw new LegacyUnrecognized('not a heap profile header');
  const p: LegacyProfile = {
    kind: 'heap',
    periodType: { type: 'space', unit: 'bytes' },
    period,
    sampleTypes: hasAlloc
      ? [
          { type: 'alloc_objects', unit: 'count' },
          { type: 'alloc_space', unit: 'bytes' },
          { type: 'inuse_objects', unit: 'count' },
          { type: 'inuse_space', unit: 'bytes' },
        ]
      : [
          { type: 'objects', unit: 'count' },
          { type: 'space', unit: 'bytes' },
        ],
    durationNanos: 0n,
    samples: [],
    mappings: [],
  };
  const table = new LocationTable();
  while (s.scan()) {
    const line = goTrimSpace(s.text);
    if (line === '' || line[0] === '#') continue;
    if (isMemoryMapSentinel(line)) break;
    const { values, addrs } = parseHeapSample(line, s.line, period, sampling, hasAlloc);
    p.samples.push({ values, locations: addrs.map((a) => table.get(minusOne(a))) });
  }
  if (s.tooLong) throw legacyError('heap', 'line too long (pprof reads lines of at most 64 KiB)', { line: s.line + 1 });
  parseAdditionalSections(s, p);
  return p;
}

function parseHeapHeader(line: string): { sampling: string; period: bigint; hasAlloc: boolean } {
  const h = HEAP_HEADER.exec(line)!;
  let period = 0n;
  if (h[6]!.length > 0) {
    const v = goParseInt(h[6]!, 10);
    if (v === null) throw new LegacyUnrecognized('heap profile sampling rate is not an int64');
    period = v;
  }
  const hasAlloc = (h[3] !== h[1] && h[3] !== '0') || (h[4] !== h[2] && h[4] !== '0');
  switch (h[5]) {
    case 'heapz_v2':
    case 'heap_v2':
      return { sampling: 'v2', period, hasAlloc };
    case 'heapprofile':
      return { sampling: '', period: 1n, hasAlloc };
    case 'heap':
      return { sampling: 'v2', period: period / 2n, hasAlloc };
    default:
      throw new LegacyUnrecognized(`unknown heap profile kind ${JSON.stringify(h[5])}`);
  }
}

function parseHeapSample(
  line: string,
  lineNo: number,
  rate: bigint,
  sampling: string,
  includeAlloc: boolean,
): { values: bigint[]; addrs: bigint[] } {
  const m = HEAP_SAMPLE.exec(line);
  if (!m)
    throw legacyError(
      'heap',
      `expected "N: BYTES [N: BYTES] @ 0xADDR...", found ${JSON.stringify(line.slice(0, 80))}`,
      { line: lineNo },
    );
  const values: bigint[] = [];
  const add = (countText: string, sizeText: string, label: string): void => {
    let count = goParseInt(countText, 10);
    let size = goParseInt(sizeText, 10);
    if (count === null || size === null)
      throw legacyError('heap', `malformed sample: ${line}: value out of int64 range`, { line: lineNo });
    if (count === 0n && size !== 0n)
      throw legacyError('heap', `${label} count was 0 but ${label} bytes was ${size}`, { line: lineNo });
    if (count !== 0n && sampling === 'v2') [count, size] = scaleHeapSample(count, size, rate);
    values.push(count, size);
  };
  if (includeAlloc) add(m[3]!, m[4]!, 'allocation');
  add(m[1]!, m[2]!, 'inuse');
  return { values, addrs: parseHexAddresses(m[5]!, 'heap', { line: lineNo }) };
}
