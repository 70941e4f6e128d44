import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { goWorkloadProfile, haveGo } from './support/go-workload';
import { loadAverage, measure, mib, type Measurement } from './support/measure';

const ROOT = join(__dirname, '..', '..');
const SHARED_PROFILES = join(ROOT, '..', 'shared', 'profiles');
const CHILD = join(__dirname, 'support', 'profile-child.js');
const CLI = join(ROOT, 'bin', 'flamebill.js');
/** The largest pprof files of the shared corpus (by inflated size). */
const SHARED_INPUTS = ['google-pprof/large.cpu', 'golang-go/default.2023-05.pgo', 'grafana-pyroscope/heap_go_truncated_3.pb.gz'];
const PPROF_FLAGS = ['-symbolize=none', '-top', '-nodecount=1000000', '-nodefraction=0', '-edgefraction=0'];

interface Input {
  readonly label: string;
  readonly path: string;
}

/**
 * flamebill vs `go tool pprof -top` on the largest profiles we have: a label-heavy and a label-free CPU profile
 * written by a real Go program (bench/workloads/labels) and the largest real profiles in ../shared. For each:
 * sizes, samples, end-to-end time and peak RSS of flamebill (a child process doing what `flamebill top --json`
 * does, and the full CLI) and of pprof on the same file in the same run, in-process fold throughput, and
 * pprof-format's Profile.decode for comparison with the hand-written reader.
 */
export async function run(): Promise<void> {
  const pprof = pprofBinary();
  process.stdout.write(`load average before: ${loadAverage()} (2 cores, shared with other engineers)\n`);
  for (const input of inputs()) await benchOne(input, pprof);
  process.stdout.write(`load average after: ${loadAverage()}\n`);
}

function inputs(): Input[] {
  const list: Input[] = [];
  if (haveGo()) {
    const seconds = process.env['FLAMEBILL_BENCH_SECONDS'] ?? '60';
    list.push({ label: `Go workload, labels on every sample (${seconds} s)`, path: goWorkloadProfile('labels-heavy', ['-seconds', seconds, '-hz', '1000']) });
    list.push({ label: `Go workload, no labels (${seconds} s)`, path: goWorkloadProfile('labels-free', ['-seconds', seconds, '-hz', '1000', '-labels=false']) });
  } else {
    process.stdout.write('go is not installed: skipping the generated label-heavy profile and go tool pprof\n');
  }
  for (const rel of SHARED_INPUTS) {
    const path = join(SHARED_PROFILES, rel);
    if (existsSync(path)) list.push({ label: `shared ${rel}`, path });
  }
  return list;
}

async function benchOne(input: Input, pprof: string | null): Promise<void> {
  const disk = statSync(input.path).size;
  const bytes = readFileSync(input.path);
  const inflated = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).length : bytes.length;
  const fold = childJson(['fold', input.path]);
  const decode = childJson(['pprof-format', input.path]);
  const top = await measure(process.execPath, [CHILD, 'top', input.path]);
  const cli = await measure(process.execPath, [CLI, 'top', input.path, '--json']);
  const go = pprof ? await measure(pprof, [...PPROF_FLAGS, input.path]) : null;
  const out = process.stdout;
  out.write(`\n${input.label}: ${relative(ROOT, input.path)}\n`);
  out.write(`  size ${mib(disk)} on disk, ${mib(inflated)} inflated, ${fold.samples} samples, load ${loadAverage()}\n`);
  // No RSS for these two: a child's ru_maxrss starts from its parent's on Linux (fork keeps it, exec does not reset
  // it), so only the /usr/bin/time figures below are peak RSS of the measured process alone.
  out.write(`  fold in-process          ${fold.ms.toFixed(0).padStart(7)} ms  ${(inflated / 1e6 / (fold.ms / 1000)).toFixed(1)} MB/s of inflated input (first call, JIT cold)\n`);
  out.write(`  pprof-format decode only ${decode.ms.toFixed(0).padStart(7)} ms  ${(inflated / 1e6 / (decode.ms / 1000)).toFixed(1)} MB/s (Profile.decode alone, no fold)\n`);
  out.write(`  flamebill top --json     ${line(top)}  ${(inflated / 1e6 / top.seconds).toFixed(1)} MB/s end to end\n`);
  out.write(`  same via bin/flamebill   ${line(cli)}  (loads every CLI command's modules)\n`);
  if (!go) return;
  out.write(`  go tool pprof -top       ${line(go)}${go.exitCode !== 0 ? `  FAILED: ${go.stderr.trim().slice(0, 120)}` : ''}\n`);
  out.write(`  ratio pprof/flamebill    time ${(go.seconds / top.seconds).toFixed(1)}x, peak RSS ${(go.maxRssBytes / top.maxRssBytes).toFixed(1)}x` +
    `  (via bin/flamebill: time ${(go.seconds / cli.seconds).toFixed(1)}x, RSS ${(go.maxRssBytes / cli.maxRssBytes).toFixed(1)}x)\n`);
}

function line(m: Measurement): string {
  const status = m.exitCode === 0 ? '' : ` exit ${m.exitCode}`;
  return `${(m.seconds * 1000).toFixed(0).padStart(7)} ms  peak RSS ${mib(m.maxRssBytes).padStart(10)}${status}`;
}

function childJson(args: string[]): { ms: number; inflatedBytes: number; samples: number } {
  return JSON.parse(execFileSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 })) as never;
}

function pprofBinary(): string | null {
  try {
    return execFileSync('go', ['tool', '-n', 'pprof'], { encoding: 'utf8' }).trim();
  } catch {
    process.stdout.write('go tool pprof is not available: flamebill figures only\n');
    return null;
  }
}
