import { goParseInt, goTrimSpace, int64, int64OfFloat, LineScanner } from './go-text';
import {
  legacyError,
  LegacyUnrecognized,
  LocationTable,
  minusOne,
  parseHexAddresses,
  type LegacyProfile,
} from './legacy-profile';
import { parseAdditionalSections } from './memory-map';

const CONTENTION_SAMPLE = /(\d+) *(\d+) @([ x0-9a-f]*)/;

/**
 * pprof's parseContention: `--- contentionz ` (C++), `--- mutex:` or `--- contention:` (Go) header, then
 * `key = value` attributes (cycles/second, sampling period, ms since reset, discarded samples; any other key, such
 * as Java's `format`, means another format), then `DELAY COUNT @ 0xADDR...` lines. With a sampling period the
 * count is multiplied by it and the delay, in cycles, becomes nanoseconds: delay × period / (cycles/second / 1e9).
 */
export function parseContention(b: Uint8Array): LegacyProfile {
  const s = new LineScanner(b);
  if (!s.scan()) {
    if (s.tooLong)
      throw legacyError('contention', 'first line too long (pprof reads lines of at most 64 KiB)', { line: 1 });
    throw new LegacyUnrecognized('empty input');
  }
  const first = s.text;
  if (
    !first.startsWith('--- contentionz ') &&
    !first.startsWith('--- mutex:') &&
    !first.startsWith('--- contention:')
  ) {
    throw new LegacyUnrecognized('not a contention profile header');
  }
  const p: LegacyProfile = {
    kind: 'contention',
    periodType: { type: 'contentions', unit: 'count' },
    period: 1n,
    sampleTypes: [
      { type: 'contentions', unit: 'count' },
      { type: 'delay', unit: 'nanoseconds' },
    ],
    durationNanos: 0n,
    samples: [],
    mappings: [],
  };
  const cpuHz = parseAttributes(s, p);
  const table = new LocationTable();
  for (;;) {
    const line = goTrimSpace(s.text);
    if (line.startsWith('---')) break;
    if (line !== '' && line[0] !== '#') {
      const m = CONTENTION_SAMPLE.exec(line);
      if (!m) throw new LegacyUnrecognized(`line ${s.line} is not a contention sample`);
      let v1 = goParseInt(m[1]!, 10);
      let v2 = goParseInt(m[2]!, 10);
      if (v1 === null || v2 === null)
        throw legacyError('contention', `malformed sample: ${line}: value out of int64 range`, { line: s.line });
      if (p.period > 0n) {
        if (cpuHz > 0n) v1 = int64OfFloat((Number(v1) * Number(p.period)) / (Number(cpuHz) / 1e9));
        v2 = int64(v2 * p.period);
      }
      const addrs = parseHexAddresses(m[3]!, 'contention', { line: s.line });
      p.samples.push({ values: [v2, v1], locations: addrs.map((a) => table.get(minusOne(a))) });
    }
    if (!s.scan()) break;
  }
  if (s.tooLong)
    throw legacyError('contention', 'line too long (pprof reads lines of at most 64 KiB)', { line: s.line + 1 });
  parseAdditionalSections(s, p);
  return p;
}

/** Reads the `key = value` lines after the header; leaves the scanner on the first line that is not one. */
function parseAttributes(s: LineScanner, p: LegacyProfile): bigint {
  let cpuHz = 0n;
  while (s.scan()) {
    const line = goTrimSpace(s.text);
    if (line === '' || line[0] === '#') continue;
    if (line.startsWith('---')) break;
    const eq = line.indexOf('=');
    if (eq < 0) break;
    const key = goTrimSpace(line.slice(0, eq));
    const val = goTrimSpace(line.slice(eq + 1));
    const v = goParseInt(val, 0);
    switch (key) {
      case 'cycles/second':
        if (v === null) throw new LegacyUnrecognized('cycles/second is not an integer');
        cpuHz = v;
        break;
      case 'sampling period':
        if (v === null) throw new LegacyUnrecognized('sampling period is not an integer');
        p.period = v;
        break;
      case 'ms since reset':
        if (v === null) throw new LegacyUnrecognized('ms since reset is not an integer');
        p.durationNanos = int64(v * 1000n * 1000n);
        break;
      case 'discarded samples':
        break;
      default:
        throw new LegacyUnrecognized(`attribute ${JSON.stringify(key)} is not one of a C++/Go contention profile`);
    }
  }
  if (s.tooLong)
    throw legacyError('contention', 'line too long (pprof reads lines of at most 64 KiB)', { line: s.line + 1 });
  return cpuHz;
}
