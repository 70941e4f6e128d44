/** One function of a `-top` listing, exact. */
interface TopEntry {
  readonly flat: bigint;
  readonly cum: bigint;
}

const ROW = /^\s*(-?[\d.]+)([a-zA-Z]*)\s+\S+%\s+\S+%\s+(-?[\d.]+)([a-zA-Z]*)\s+\S+%\s+(.*)$/;
const TOTAL = /of (-?[\d.]+)([a-zA-Z]*) total/;

/**
 * Compares `go tool pprof -top` text output (run with an exact `-unit`, e.g. `ns` or `B`) with `flamebill top --json`
 * output: the total and every function's flat and cum. Returns null when equal, else what differs (the first few
 * differences). pprof's ` (inline)` and ` (partial-inline)` name suffixes are dropped, as in the refs of ../shared/profile-refs.
 */
export function comparePprofTop(pprofText: string, flamebillJson: string): string | null {
  const pprof = parsePprofTop(pprofText);
  if (typeof pprof === 'string') return pprof;
  const exact = flamebillJson.replace(/"(total|flat|cum)":(-?\d+)/g, '"$1":"$2"');
  const fb = JSON.parse(exact) as { total: string; functions: { name: string; flat: string; cum: string }[] };
  const problems: string[] = [];
  if (BigInt(fb.total) !== pprof.total) problems.push(`total: flamebill ${fb.total}, pprof ${pprof.total}`);
  const seen = new Set<string>();
  for (const f of fb.functions) {
    seen.add(f.name);
    const p = pprof.functions.get(f.name);
    if (!p) problems.push(`${f.name}: only in flamebill`);
    else if (p.flat !== BigInt(f.flat) || p.cum !== BigInt(f.cum))
      problems.push(`${f.name}: flamebill ${f.flat}/${f.cum}, pprof ${p.flat}/${p.cum} (flat/cum)`);
  }
  for (const name of pprof.functions.keys()) if (!seen.has(name)) problems.push(`${name}: only in pprof`);
  if (problems.length === 0) return null;
  return `${problems.length} difference(s): ${problems.slice(0, 3).join('; ')}`;
}

function parsePprofTop(text: string): { total: bigint; functions: Map<string, TopEntry> } | string {
  const lines = text.split('\n');
  const totalMatch = lines.map((l) => TOTAL.exec(l)).find((m) => m !== null);
  if (!totalMatch) return 'no "... of N total" line in the pprof output';
  if (totalMatch[1]!.includes('.'))
    return `pprof printed a scaled total (${totalMatch[1]}${totalMatch[2]}): run it with an exact -unit`;
  const functions = new Map<string, TopEntry>();
  const header = lines.findIndex((l) => /^\s*flat\s+flat%/.test(l));
  for (const l of lines.slice(header + 1)) {
    const m = ROW.exec(l);
    if (!m) continue;
    if (m[1]!.includes('.') || m[3]!.includes('.'))
      return `pprof printed scaled values (${m[1]}${m[2]}): run it with an exact -unit`;
    const name = m[5]!.replace(/ \((partial-)?inline\)$/, '');
    if (functions.has(name)) return `pprof printed two rows named ${name}`;
    functions.set(name, { flat: BigInt(m[1]!), cum: BigInt(m[3]!) });
  }
  return { total: BigInt(totalMatch[1]!), functions };
}
