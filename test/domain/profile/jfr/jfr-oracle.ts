import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** What grafana/jfr-parser computes for one recording and sample type, from its `_expected_collapsed.txt.gz`. */
export interface JfrExpectation {
  readonly recording: string;
  readonly expectedFile: string;
  /** The sample type name flamebill's JFR fold gives it (`cpu`, `alloc_in_new_tlab_bytes`, `mutex_delay`...). */
  readonly sampleType: string;
  readonly total: bigint;
  readonly functions: ReadonlyMap<string, { flat: bigint; cum: bigint }>;
}

/**
 * Every (recording, sample type) with an expected output in `dir`. File names are
 * `<recording>_<i>_<metric>_<type>__<unit>[ <type>__<unit>]_expected_collapsed.txt.gz`; each line is
 * `frame;frame;... [v1 v2]`, root first, frames `function:line`. Flat and cum follow `go tool pprof -top`: flat to the
 * leaf, cum once per distinct function per stack.
 */
export function jfrExpectations(dir: string): JfrExpectation[] {
  const files = readdirSync(dir).sort();
  const out: JfrExpectation[] = [];
  for (const recording of files.filter((f) => f.endsWith('.jfr.gz'))) {
    const base = recording.slice(0, -'.jfr.gz'.length);
    for (const expected of files.filter((f) => f.startsWith(`${base}_`) && f.endsWith('_expected_collapsed.txt.gz'))) {
      const m = /^(.*)_(\d+)_(.*)_expected_collapsed\.txt\.gz$/.exec(expected);
      if (!m || m[1] !== base) continue;
      const types = m[3]!.split(' ');
      const metric = types[0]!.slice(0, types[0]!.indexOf('_'));
      const text = gunzipSync(readFileSync(join(dir, expected))).toString('utf8');
      types.forEach((t, valueIndex) => {
        let type = (valueIndex === 0 ? t.slice(metric.length + 1) : t).replace(/__[a-z]+$/, '');
        if (metric === 'process') type = type.replace(/^cpu_/, '');
        if (metric === 'mutex' || metric === 'block') type = `${metric}_${type}`;
        out.push({ recording, expectedFile: expected, sampleType: type, ...foldCollapsed(text, valueIndex) });
      });
    }
  }
  return out;
}

function foldCollapsed(
  text: string,
  valueIndex: number,
): { total: bigint; functions: Map<string, { flat: bigint; cum: bigint }> } {
  const functions = new Map<string, { flat: bigint; cum: bigint }>();
  const entry = (name: string): { flat: bigint; cum: bigint } => {
    let e = functions.get(name);
    if (!e) functions.set(name, (e = { flat: 0n, cum: 0n }));
    return e;
  };
  let total = 0n;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^(.*) \[([-\d ]+)\]$/.exec(line);
    if (!m) throw new Error(`unexpected collapsed line: ${line.slice(0, 80)}`);
    const value = BigInt(m[2]!.split(' ')[valueIndex]!);
    if (value === 0n) continue;
    total += value;
    const frames = m[1]!.split(';').map((f) => f.slice(0, f.lastIndexOf(':')));
    entry(frames[frames.length - 1]!).flat += value;
    for (const name of new Set(frames)) entry(name).cum += value;
  }
  for (const [name, e] of functions) if (e.flat === 0n && e.cum === 0n) functions.delete(name);
  return { total, functions };
}
