import { goParseInt, goParseUint, goTrimSpace, LineScanner } from './go-text';
import {
  legacyError,
  LegacyUnrecognized,
  LocationTable,
  minusOne,
  parseHexAddresses,
  type LegacyProfile,
  type LegacySample,
} from './legacy-profile';
import { isMemoryMapSentinel, parseAdditionalSections } from './memory-map';
import { cleanupDuplicateLocations } from './legacy-cpu.decoder';

const COUNT_START = /^([^\t\n\f\r ]+) profile: total \d+$/;
const COUNT_LINE = /^(\d+) @(( 0x[0-9a-f]+)+)$/;
const THREADZ_START = /--- threadz \d+ ---/;
const THREAD_START = /--- Thread ([0-9A-Fa-f]+) \(name: ([^\n]*)\/(\d+)\) stack: ---/;

function isSpaceOrComment(line: string): boolean {
  const t = goTrimSpace(line);
  return t.length === 0 || t[0] === '#';
}

function skipComments(s: LineScanner, kind: string): void {
  while (s.scan() && isSpaceOrComment(s.text)) {
    /* skip */
  }
  if (s.tooLong) throw legacyError(kind, 'line too long (pprof reads lines of at most 64 KiB)', { line: s.line + 1 });
}

/**
 * pprof's parseGoCount: Go's text goroutine/threadcreate profiles (`debug=1` before protobuf):
 * `NAME profile: total N`, then `COUNT @ 0xADDR 0xADDR...` lines; sample type NAME/count.
 */
export function parseGoCount(b: Uint8Array): LegacyProfile {
  const s = new LineScanner(b);
  skipComments(s, 'count');
  const m = COUNT_START.exec(s.text);
  if (!m) throw new LegacyUnrecognized('not a Go count profile header');
  const type = { type: m[1]!, unit: 'count' };
  const p: LegacyProfile = {
    kind: 'count',
    periodType: type,
    period: 1n,
    sampleTypes: [type],
    durationNanos: 0n,
    samples: [],
    mappings: [],
  };
  const table = new LocationTable();
  while (s.scan()) {
    const line = s.text;
    if (isSpaceOrComment(line)) continue;
    if (line.startsWith('---')) break;
    const c = COUNT_LINE.exec(line);
    const n = c ? goParseInt(c[1]!, 0) : null;
    if (!c || n === null)
      throw legacyError(
        'count',
        `malformed profile format: expected "COUNT @ 0xADDR...", found ${JSON.stringify(line.slice(0, 80))}`,
        { line: s.line },
      );
    const locations = c[2]!
      .trim()
      .split(/ +/)
      .map((field) => {
        const addr = goParseUint(field, 0);
        if (addr === null) throw legacyError('count', `malformed profile format: address ${field}`, { line: s.line });
        return table.get(minusOne(addr));
      });
    p.samples.push({ values: [n], locations });
  }
  if (s.tooLong)
    throw legacyError('count', 'line too long (pprof reads lines of at most 64 KiB)', { line: s.line + 1 });
  parseAdditionalSections(s, p);
  return p;
}

/**
 * pprof's parseThread: threadz text profiles, `--- threadz N ---` then per thread `--- Thread HEX (name: NAME/N)
 * stack: ---` followed by address lines (or "same as previous thread", which adds one to the previous sample); the
 * data must end at a memory-map sentinel or `---- no stack trace for`. Sample type thread/count.
 */
export function parseThread(b: Uint8Array): LegacyProfile {
  const s = new LineScanner(b);
  skipComments(s, 'thread');
  let line = s.text;
  if (THREADZ_START.test(line)) {
    while (s.scan()) {
      line = s.text;
      if (isMemoryMapSentinel(line) || line.startsWith('-')) break;
    }
  } else if (!THREAD_START.test(line)) {
    throw new LegacyUnrecognized('not a threadz profile header');
  }
  const type = { type: 'thread', unit: 'count' };
  const p: LegacyProfile = {
    kind: 'thread',
    periodType: type,
    period: 1n,
    sampleTypes: [type],
    durationNanos: 0n,
    samples: [],
    mappings: [],
  };
  const table = new LocationTable();
  while (!isMemoryMapSentinel(line)) {
    if (line.startsWith('---- no stack trace for')) break;
    if (!THREAD_START.test(line)) throw new LegacyUnrecognized(`line ${s.line} is not a thread header`);
    let addrs: bigint[] | null;
    ({ line, addrs } = parseThreadSample(s));
    if (addrs === null || addrs.length === 0) {
      const last: LegacySample | undefined = p.samples[p.samples.length - 1];
      if (last) last.values[0] = BigInt.asIntN(64, last.values[0]! + 1n);
      continue;
    }
    p.samples.push({ values: [1n], locations: addrs.map((a, i) => table.get(i > 0 ? minusOne(a) : a)) });
  }
  parseAdditionalSections(s, p);
  cleanupDuplicateLocations(p.samples);
  return p;
}

function parseThreadSample(s: LineScanner): { line: string; addrs: bigint[] | null } {
  let line = '';
  let sameAsPrevious = false;
  const addrs: bigint[] = [];
  while (s.scan()) {
    line = goTrimSpace(s.text);
    if (line === '') continue;
    if (line.startsWith('---')) break;
    if (line.includes('same as previous thread')) {
      sameAsPrevious = true;
      continue;
    }
    addrs.push(...parseHexAddresses(line, 'thread', { line: s.line }));
  }
  if (s.tooLong)
    throw legacyError('thread', 'line too long (pprof reads lines of at most 64 KiB)', { line: s.line + 1 });
  return { line, addrs: sameAsPrevious ? null : addrs };
}
