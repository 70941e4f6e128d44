import { GO_NON_SPACE, GO_SPACE, GO_XDIGIT, goParseUint, goReplace, goTrimSpace, LineScanner, uint64 } from './go-text';
import { legacyError, referencedLocations, type LegacyMapping, type LegacyProfile } from './legacy-profile';

// pprof's regular expressions for /proc/<pid>/maps lines and its brief "start-end: file" variant, with Go's
// character classes spelled out (JavaScript's \s is wider than RE2's).
const S = GO_SPACE;
const X = GO_XDIGIT;
const cHex = `(?:0x)?(${X}+)`;
const cHexRange = `${S}*${cHex}[\\t\\n\\f\\r -]?${S}*${cHex}:?`;
const cSpaceString = `(?:${S}+(${GO_NON_SPACE}+))?`;
const cSpaceHex = `(?:${S}+(${X}+))?`;
const cSpaceAtOffset = `(?:${S}+\\(@(${X}+)\\))?`;
const cPerm = `(?:${S}+([-rwxp]+))?`;
const hexPair = `${S}+${X}+:${X}+`;
const spaceDigits = `${S}+[0-9]+`;
const PROC_MAPS = new RegExp(`^${cHexRange}${cPerm}${cSpaceHex}${hexPair}${spaceDigits}${cSpaceString}`);
const BRIEF_MAPS = new RegExp(`^${cHexRange}${cPerm}${cSpaceString}${cSpaceAtOffset}${cSpaceHex}`);
const LOG_INFO = /^[^[\]]+:[0-9]+\][\t\n\f\r ]/;
const LIB = /([.]so$|[.]so[._][0-9]+)/;

const SENTINELS = ['--- Memory map: ---', 'MAPPED_LIBRARIES:'];

/** pprof's isMemoryMapSentinel: the line contains one of the memory-map section headers. */
export function isMemoryMapSentinel(line: string): boolean {
  return SENTINELS.some((s) => line.includes(s));
}

/**
 * pprof's parseAdditionalSections: skips to the memory-map sentinel (the current line counts), then reads the
 * mappings after it and assigns every location to one (ParseMemoryMapFromScanner).
 */
export function parseAdditionalSections(s: LineScanner, p: LegacyProfile): void {
  while (!isMemoryMapSentinel(s.text) && s.scan()) {
    /* skip */
  }
  if (s.tooLong) throw legacyError(p.kind, 'line too long (pprof reads lines of at most 64 KiB)', { line: s.line + 1 });
  parseMemoryMapFromScanner(s, p);
}

/**
 * pprof's ParseMemoryMapFromScanner: reads executable mappings from the remaining lines (`name=value` lines define
 * `$name` substitutions, glog prefixes are dropped, anything else unrecognized is skipped), then merges adjacent
 * pieces, moves the main binary first, and maps each referenced location (massageMappings, remapMappingIDs).
 */
export function parseMemoryMapFromScanner(s: LineScanner, p: LegacyProfile): void {
  const attrs: [string, string][] = [];
  while (s.scan()) {
    const line = goReplace(removeLoggingInfo(s.text), attrs);
    const m = parseMappingEntry(line);
    if (m === 'unrecognized') {
      const eq = line.indexOf('=');
      if (eq >= 0) attrs.push([`$${goTrimSpace(line.slice(0, eq))}`, goTrimSpace(line.slice(eq + 1))]);
      continue;
    }
    if (m) p.mappings.push(m);
  }
  if (s.tooLong)
    throw legacyError(p.kind, 'memory map line too long (pprof reads lines of at most 64 KiB)', { line: s.line + 1 });
  p.mappings = massageMappings(p.mappings);
  remapMappings(p);
}

function removeLoggingInfo(line: string): string {
  const m = LOG_INFO.exec(line);
  return m ? line.slice(m[0].length) : line;
}

/** One mapping line: a mapping, null for a non-executable one (skipped), or 'unrecognized'. */
function parseMappingEntry(line: string): LegacyMapping | null | 'unrecognized' {
  let start: string, end: string, perm: string, file: string, offset: string, buildId: string;
  let me = PROC_MAPS.exec(line);
  if (me) {
    [start, end, perm, offset, file, buildId] = [me[1]!, me[2]!, me[3] ?? '', me[4] ?? '', me[5] ?? '', ''];
  } else if ((me = BRIEF_MAPS.exec(line))) {
    [start, end, perm, file, offset, buildId] = [me[1]!, me[2]!, me[3] ?? '', me[4] ?? '', me[5] ?? '', me[6] ?? ''];
  } else {
    return 'unrecognized';
  }
  if (perm !== '' && !perm.includes('x')) return null;
  const s = goParseUint(start, 16);
  const l = goParseUint(end, 16);
  const o = offset === '' ? 0n : goParseUint(offset, 16);
  if (s === null || l === null || o === null) return 'unrecognized';
  return { start: s, limit: l, offset: o, file, buildId };
}

/** pprof's massageMappings: merge split pieces of one mapping, then swap the likely main binary to the front. */
function massageMappings(input: LegacyMapping[]): LegacyMapping[] {
  let mappings = input;
  if (mappings.length > 1) {
    const merged = [mappings[0]!];
    for (const m of mappings.slice(1)) {
      const lm = merged[merged.length - 1]!;
      if (adjacent(lm, m)) {
        lm.limit = m.limit;
        if (m.file !== '') lm.file = m.file;
        if (m.buildId !== '') lm.buildId = m.buildId;
        continue;
      }
      merged.push(m);
    }
    mappings = merged;
  }
  for (let i = 0; i < mappings.length; i++) {
    const file = goTrimSpace(mappings[i]!.file.split('(deleted)').join(''));
    if (file.length === 0 || LIB.test(file) || file[0] === '[') continue;
    [mappings[0], mappings[i]] = [mappings[i]!, mappings[0]!];
    break;
  }
  return mappings;
}

function adjacent(m1: LegacyMapping, m2: LegacyMapping): boolean {
  if (m1.file !== '' && m2.file !== '' && m1.file !== m2.file) return false;
  if (m1.buildId !== '' && m2.buildId !== '' && m1.buildId !== m2.buildId) return false;
  if (m1.limit !== m2.start) return false;
  if (m1.offset !== 0n && m2.offset !== 0n) {
    if (uint64(m1.offset + (m1.limit - m1.start)) !== m2.offset) return false;
  }
  return true;
}

/**
 * pprof's remapMappingIDs: the anon_hugepage and 0x400000 heuristics, then each referenced location (in order of
 * first reference) goes to the first mapping containing its address, else to one whose unencoded first part would
 * contain it (widening that mapping), else to a fake mapping without a file.
 */
export function remapMappings(p: LegacyProfile): void {
  const ms = p.mappings;
  if (ms.length > 1 && ms[0]!.file.startsWith('/anon_hugepage') && ms[0]!.limit === ms[1]!.start) ms.shift();
  if (ms.length > 0) {
    const m = ms[0]!;
    if (uint64(m.start - m.offset) === 0x400000n) {
      m.start = 0x400000n;
      m.offset = 0n;
    }
  }
  let fake: LegacyMapping | null = null;
  next: for (const l of referencedLocations(p.samples)) {
    const a = l.address;
    if (l.mapping !== null || a === 0n) continue;
    for (const m of ms) {
      if (m.start <= a && a < m.limit) {
        l.mapping = m;
        continue next;
      }
    }
    for (const m of ms) {
      if (m.offset !== 0n && uint64(m.start - m.offset) <= a && a < m.start) {
        m.start = uint64(m.start - m.offset);
        m.offset = 0n;
        l.mapping = m;
        continue next;
      }
    }
    if (fake === null) {
      fake = { start: 0n, limit: (1n << 64n) - 1n, offset: 0n, file: '', buildId: '' };
      ms.push(fake);
    }
    l.mapping = fake;
  }
}
