import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { foldProfile } from '../src/domain/profile';
import { loadAverage, mib } from './support/measure';

const ROOT = join(__dirname, '..', '..');
const SHARED = join(ROOT, '..', 'shared', 'profiles');
const JFR_DIR = join(SHARED, 'grafana-jfr-parser');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'jfr');
/** pprof inputs of a size like the concatenated JFR recordings (2.4 and 2.7 MB inflated). */
const PPROF_PEERS = ['google-pprof/large.cpu', 'grafana-pyroscope/heap_go_truncated_3.pb.gz'];
const KAFKA_JFR = join(SHARED, 'grafana-pyroscope', 'cortex-dev-01__kafka-0__cpu__0.jfr.gz');
const KAFKA_PPROF = join(
  SHARED,
  'grafana-pyroscope',
  'cortex-dev-01__kafka-0__cpu__0.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz',
);

interface Timing {
  readonly label: string;
  readonly bytes: number;
  readonly ms: number;
  readonly total: bigint;
}

/**
 * `npm run bench -- jfr`: in-process warm fold throughput (inflated bytes folded per CPU second, median of several
 * runs after a warm-up) of JFR recordings against the pprof path:
 * - every JFR recording of ../shared (else the fixtures), one by one;
 * - all of them concatenated into one multi-chunk recording, against pprof files of similar inflated size;
 * - the same profile in both encodings: Pyroscope's kafka recording and the pprof Pyroscope converted it to.
 */
export async function run(): Promise<void> {
  process.stdout.write(`load average before: ${loadAverage()} (2 cores, shared with other engineers)\n`);
  const dir = existsSync(JFR_DIR) ? JFR_DIR : FIXTURES;
  const recordings = readdirSync(dir)
    .filter((f) => f.endsWith('.jfr.gz'))
    .sort();
  const raws = recordings.map((f) => gunzipSync(readFileSync(join(dir, f))));
  const rows: Timing[] = recordings.map((f, i) => time(f, raws[i]!));
  rows.push(time(`all ${recordings.length} concatenated (${recordings.length} chunks)`, Buffer.concat(raws)));
  for (const peer of PPROF_PEERS) {
    const path = join(SHARED, peer);
    if (existsSync(path)) rows.push(time(`pprof ${peer}`, inflate(readFileSync(path))));
  }
  if (existsSync(KAFKA_JFR) && existsSync(KAFKA_PPROF)) {
    rows.push(time('kafka cpu__0 as JFR', inflate(readFileSync(KAFKA_JFR))));
    rows.push(time('kafka cpu__0 as the pprof Pyroscope made of it', inflate(readFileSync(KAFKA_PPROF))));
  }
  process.stdout.write(
    `${'input'.padEnd(64)} ${'inflated'.padStart(10)} ${'CPU ms'.padStart(8)} ${'MB/s'.padStart(7)}  total\n`,
  );
  for (const r of rows) {
    const mbps = r.bytes / 1e6 / (r.ms / 1000);
    process.stdout.write(
      `${r.label.slice(0, 64).padEnd(64)} ${mib(r.bytes).padStart(10)} ${r.ms.toFixed(2).padStart(8)} ${mbps.toFixed(1).padStart(7)}  ${r.total}\n`,
    );
  }
  process.stdout.write(`load average after: ${loadAverage()}\n`);
}

/**
 * Median CPU time (user + system of this process) of folding `raw` (already inflated), after two warm-up folds; at
 * least 5 runs, up to ~1 s. CPU time rather than wall time: the machine is shared, and wall time under a load of 5+
 * on 2 cores measures the neighbours.
 */
function time(label: string, raw: Uint8Array): Timing {
  let total = 0n;
  for (let i = 0; i < 2; i++) total = foldProfile(raw).total;
  const runs: number[] = [];
  const started = performance.now();
  while (runs.length < 5 || (performance.now() - started < 1000 && runs.length < 50)) {
    const t0 = process.cpuUsage();
    foldProfile(raw);
    const t = process.cpuUsage(t0);
    runs.push((t.user + t.system) / 1000);
  }
  runs.sort((a, b) => a - b);
  return { label, bytes: raw.length, ms: runs[Math.floor(runs.length / 2)]!, total };
}

function inflate(bytes: Buffer): Buffer {
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}
