import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BENCH_TMP, goWorkloadProfile, haveGo } from './support/go-workload';
import { loadAverage, measure, mib, type Measurement } from './support/measure';
import { comparePprofTop } from './support/pprof-top';
import { labelFreeScaleProfile, labelHeavyScaleProfile } from './support/scale-profiles';

const ROOT = join(__dirname, '..', '..');
const SHARED_PROFILES = join(ROOT, '..', 'shared', 'profiles');
const CHILD = join(__dirname, 'support', 'profile-child.js');
const CLI = join(ROOT, 'bin', 'flamebill.js');
/** The largest pprof files of the shared corpus (by inflated size). */
const SHARED_INPUTS = [
  'google-pprof/large.cpu',
  'golang-go/default.2023-05.pgo',
  'grafana-pyroscope/heap_go_truncated_3.pb.gz',
];
const PPROF_FLAGS = ['-symbolize=none', '-top', '-nodecount=1000000', '-nodefraction=0', '-edgefraction=0'];

interface Input {
  readonly label: string;
  readonly path: string;
  /** Which issue-3 targets apply: the label-heavy or the label-free scale input. */
  readonly target?: 'label-heavy' | 'label-free';
}

interface Row {
  readonly input: Input;
  readonly inflated: number;
  readonly samples: number;
  readonly warmMs: number;
  readonly top: Measurement;
  /** `top` with NODE_EXTRA_CA_CERTS unset, on the target inputs when this environment sets it. */
  readonly bareTop: Measurement | null;
  readonly go: Measurement | null;
  readonly match: string;
}

/**
 * flamebill vs `go tool pprof -top` on the largest profiles we have:
 * - the ~18 MB scale inputs (bench/support/scale-profiles.ts): real Go workload samples replayed with fresh
 *   per-request labels (label-heavy), and a merge of the unlabelled profile over several builds (label-free);
 * - the real Go workload profiles themselves (bench/workloads/labels, 60 s each by default);
 * - the largest real profiles of ../shared.
 * For each: sizes, samples, end-to-end time and peak RSS (GNU time) of flamebill (a child that loads only the
 * profile engine and does what `flamebill top --json` does, median of 5 runs; the full CLI once, for reference) and
 * of pprof on the same file in the same run (once on inputs of 10 MB and more, else median of 3), the ratios, MB/s,
 * and in-process warm fold throughput (median of 5, steadier under load). Peak RSS is the largest of the runs.
 * flamebill's output is checked against pprof's on every input: a MISMATCH line says where they differ.
 */
export async function run(): Promise<void> {
  const pprof = pprofBinary();
  process.stdout.write(`load average before: ${loadAverage()} (2 cores, shared with other engineers)\n`);
  await nodeStartup();
  const rows: Row[] = [];
  for (const input of inputs()) rows.push(await benchOne(input, pprof));
  process.stdout.write(`load average after: ${loadAverage()}\n`);
  summary(rows);
}

function inputs(): Input[] {
  const list: Input[] = [];
  if (haveGo()) {
    const seconds = process.env['FLAMEBILL_BENCH_SECONDS'] ?? '60';
    const heavy = goWorkloadProfile('labels-heavy', ['-seconds', seconds, '-hz', '1000']);
    const free = goWorkloadProfile('labels-free', ['-seconds', seconds, '-hz', '1000', '-labels=false']);
    list.push({
      label: 'scale label-heavy (real samples replayed, fresh request_id/trace_id/span_id per sample)',
      path: labelHeavyScaleProfile(heavy),
      target: 'label-heavy',
    });
    list.push({
      label: 'scale label-free (real unlabelled profile merged over builds)',
      path: labelFreeScaleProfile(free),
      target: 'label-free',
    });
    list.push({ label: `Go workload, labels on every sample (${seconds} s)`, path: heavy });
    list.push({ label: `Go workload, no labels (${seconds} s)`, path: free });
  } else {
    process.stdout.write('go is not installed: skipping the generated profiles and go tool pprof\n');
  }
  for (const rel of SHARED_INPUTS) {
    const path = join(SHARED_PROFILES, rel);
    if (existsSync(path)) list.push({ label: `shared ${rel}`, path });
  }
  return list;
}

async function benchOne(input: Input, pprof: string | null): Promise<Row> {
  const disk = statSync(input.path).size;
  const bytes = readFileSync(input.path);
  const inflated = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).length : bytes.length;
  const fold = childJson(['fold', input.path]);
  const decode =
    inflated <= 4e6 || process.env['FLAMEBILL_BENCH_DECODE'] ? childJson(['pprof-format', input.path]) : null;
  const topOut = join(BENCH_TMP, 'top.out.json');
  const top = await medianOf(FLAMEBILL_RUNS, () =>
    measure(process.execPath, [CHILD, 'top', input.path], process.env, topOut),
  );
  const bareTop =
    input.target && process.env['NODE_EXTRA_CA_CERTS']
      ? await medianOf(FLAMEBILL_RUNS, () =>
          measure(process.execPath, [CHILD, 'top', input.path], withoutExtraCaCerts()),
        )
      : null;
  const cli = await measure(process.execPath, [CLI, 'top', input.path, '--json']);
  const unit = fold.unit === 'nanoseconds' ? ['-unit=ns'] : fold.unit === 'bytes' ? ['-unit=B'] : [];
  const pprofOut = join(BENCH_TMP, 'pprof.out.txt');
  const pprofRun = () =>
    measure(pprof!, [...PPROF_FLAGS, `-sample_index=${fold.type}`, ...unit, input.path], process.env, pprofOut);
  // pprof runs once on large inputs (tens of seconds each); on smaller ones, the median of three like flamebill's.
  const go = pprof ? await medianOf(inflated >= 10e6 ? 1 : 3, pprofRun) : null;
  const out = process.stdout;
  out.write(`\n${input.label}: ${relative(ROOT, input.path)}\n`);
  out.write(
    `  size ${mib(disk)} on disk, ${mib(inflated)} (${(inflated / 1e6).toFixed(1)} MB) inflated, ${fold.samples} samples, sample type ${fold.type}, load ${loadAverage()}\n`,
  );
  out.write(
    `  fold in-process, cold    ${fold.coldMs.toFixed(0).padStart(7)} ms  ${mbps(inflated, fold.coldMs / 1000)} MB/s (first call, JIT cold)\n`,
  );
  out.write(
    `  fold in-process, warm    ${fold.warmMs.toFixed(0).padStart(7)} ms  ${mbps(inflated, fold.warmMs / 1000)} MB/s (median of ${fold.runs}; CPU ${fold.warmCpuMs.toFixed(0)} ms)\n`,
  );
  if (decode)
    out.write(
      `  pprof-format decode only ${decode.coldMs.toFixed(0).padStart(7)} ms  ${mbps(inflated, decode.coldMs / 1000)} MB/s (Profile.decode alone, no fold)\n`,
    );
  out.write(
    `  flamebill top --json     ${line(top)}  ${mbps(inflated, top.seconds)} MB/s end to end (child loading only the profile engine; median of ${top.runs})\n`,
  );
  if (bareTop)
    out.write(
      `  same, no extra CA certs  ${line(bareTop)}  ${mbps(inflated, bareTop.seconds)} MB/s end to end (NODE_EXTRA_CA_CERTS unset: see node start-up above)\n`,
    );
  out.write(`  same via bin/flamebill   ${line(cli)}  (the full CLI entry point)\n`);
  let match = 'not checked';
  if (go) {
    out.write(
      `  go tool pprof -top       ${line(go)}${go.runs > 1 ? ` (median of ${go.runs})` : ''}${go.exitCode !== 0 ? `  FAILED: ${go.stderr.trim().slice(0, 120)}` : ''}\n`,
    );
    out.write(
      `  ratio pprof/flamebill    time ${(go.seconds / top.seconds).toFixed(1)}x, peak RSS ${(go.maxRssBytes / top.maxRssBytes).toFixed(1)}x` +
        `  (via bin/flamebill: time ${(go.seconds / cli.seconds).toFixed(1)}x, RSS ${(go.maxRssBytes / cli.maxRssBytes).toFixed(1)}x)\n`,
    );
    if (go.exitCode === 0 && top.exitCode === 0) {
      const diff = comparePprofTop(readFileSync(pprofOut, 'utf8'), readFileSync(topOut, 'utf8'));
      match = diff === null ? 'equal' : 'MISMATCH';
      out.write(
        diff === null
          ? '  output                   equal to go tool pprof (total, flat and cum of every function)\n'
          : `  MISMATCH with go tool pprof: ${diff}\n`,
      );
    }
  }
  return { input, inflated, samples: fold.samples, warmMs: fold.warmMs, top, bareTop, go, match };
}

/** One line per input, and the issue-3 targets on the two scale inputs. */
function summary(rows: readonly Row[]): void {
  const out = process.stdout;
  out.write(
    '\nsummary (flamebill = child loading only the profile engine, median of 5 runs; ratios are pprof / flamebill)\n',
  );
  out.write(
    `${'input'.padEnd(44)} ${'MB'.padStart(6)} ${'samples'.padStart(8)} ${'fb s'.padStart(6)} ${'fb CPU'.padStart(6)} ${'fb RSS'.padStart(8)} ${'pprof s'.padStart(8)} ${'pprof RSS'.padStart(10)} ${'time×'.padStart(6)} ${'RSS×'.padStart(5)} ${'MB/s'.padStart(6)} ${'warm MB/s'.padStart(9)}  output\n`,
  );
  for (const r of rows) {
    const go = r.go;
    out.write(
      `${r.input.label.slice(0, 44).padEnd(44)} ${(r.inflated / 1e6).toFixed(1).padStart(6)} ${String(r.samples).padStart(8)} ${r.top.seconds.toFixed(2).padStart(6)} ${r.top.cpuSeconds.toFixed(2).padStart(6)} ${mib(r.top.maxRssBytes).replace(' MiB', 'M').padStart(8)} ` +
        `${go ? go.seconds.toFixed(2).padStart(8) : '-'.padStart(8)} ${go ? mib(go.maxRssBytes).replace(' MiB', 'M').padStart(10) : '-'.padStart(10)} ` +
        `${go ? (go.seconds / r.top.seconds).toFixed(1).padStart(6) : '-'.padStart(6)} ${go ? (go.maxRssBytes / r.top.maxRssBytes).toFixed(1).padStart(5) : '-'.padStart(5)} ` +
        `${mbps(r.inflated, r.top.seconds).padStart(6)} ${mbps(r.inflated, r.warmMs / 1000).padStart(9)}  ${r.match}\n`,
    );
  }
  for (const r of rows) {
    if (!r.input.target || !r.go) continue;
    const speed = r.go.seconds / r.top.seconds;
    const cpuSpeed = r.go.cpuSeconds / r.top.cpuSeconds;
    const wantSpeed = r.input.target === 'label-heavy' ? 20 : 3;
    const rss = r.go.maxRssBytes / r.top.maxRssBytes;
    const rate = r.inflated / 1e6 / r.top.seconds;
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    out.write(
      `target ${r.input.target}: ≥${wantSpeed}x faster: ${speed.toFixed(1)}x ${verdict(speed >= wantSpeed)} (CPU time ${cpuSpeed.toFixed(1)}x); ` +
        `peak RSS ≤ 1/4 of pprof's: 1/${rss.toFixed(1)} ${verdict(rss >= 4)}; ≥50 MB/s end to end: ${rate.toFixed(1)} ${verdict(rate >= 50)} ` +
        `(${(r.inflated / 1e6 / r.top.cpuSeconds).toFixed(1)} per CPU second${r.bareTop ? `; ${mbps(r.inflated, r.bareTop.seconds)} with NODE_EXTRA_CA_CERTS unset` : ''}); output ${r.match}\n`,
    );
  }
}

/**
 * Node's own start-up (`node -e 0`, median of 5), in this environment and, when it sets NODE_EXTRA_CA_CERTS, without
 * it: Node reads and parses that certificate bundle at every start, before any of flamebill's code runs (this
 * machine's bundle costs ~50 ms, a sixth of an 18 MB `top`).
 */
async function nodeStartup(): Promise<void> {
  const bare = (env: NodeJS.ProcessEnv) => medianOf(FLAMEBILL_RUNS, () => measure(process.execPath, ['-e', '0'], env));
  const here = await bare(process.env);
  let text = `node start-up alone (node -e 0): ${(here.seconds * 1000).toFixed(0)} ms`;
  if (process.env['NODE_EXTRA_CA_CERTS']) {
    const without = await bare(withoutExtraCaCerts());
    text += ` with NODE_EXTRA_CA_CERTS=${process.env['NODE_EXTRA_CA_CERTS']}, ${(without.seconds * 1000).toFixed(0)} ms without it`;
  }
  process.stdout.write(`${text}\n`);
}

function withoutExtraCaCerts(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
}

/** Runs of the flamebill child per input: the machine is shared, so one run can land on a busy moment. */
const FLAMEBILL_RUNS = 5;

/**
 * Runs `run` n times in sequence; returns the run of median wall time, with the peak RSS of all runs and the
 * non-zero exit code of any.
 */
async function medianOf(n: number, run: () => Promise<Measurement>): Promise<Measurement & { runs: number }> {
  const all: Measurement[] = [];
  for (let i = 0; i < n; i++) all.push(await run());
  const sorted = [...all].sort((a, b) => a.seconds - b.seconds);
  const mid = sorted[Math.floor(n / 2)]!;
  return {
    ...mid,
    maxRssBytes: Math.max(...all.map((m) => m.maxRssBytes)),
    exitCode: all.find((m) => m.exitCode !== 0)?.exitCode ?? 0,
    runs: n,
  };
}

function mbps(bytes: number, seconds: number): string {
  return (bytes / 1e6 / seconds).toFixed(1);
}

function line(m: Measurement): string {
  const status = m.exitCode === 0 ? '' : ` exit ${m.exitCode}`;
  return `${(m.seconds * 1000).toFixed(0).padStart(7)} ms  CPU ${(m.cpuSeconds * 1000).toFixed(0).padStart(6)} ms  peak RSS ${mib(m.maxRssBytes).padStart(10)}${status}`;
}

interface ChildFold {
  readonly coldMs: number;
  readonly warmMs: number;
  readonly warmCpuMs: number;
  readonly runs: number;
  readonly samples: number;
  readonly type: string;
  readonly unit: string;
}

function childJson(args: string[]): ChildFold {
  return JSON.parse(
    execFileSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 }),
  ) as ChildFold;
}

function pprofBinary(): string | null {
  try {
    return execFileSync('go', ['tool', '-n', 'pprof'], { encoding: 'utf8' }).trim();
  } catch {
    process.stdout.write('go tool pprof is not available: flamebill figures only\n');
    return null;
  }
}
