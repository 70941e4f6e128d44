import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where bench inputs are generated (git-ignored). */
export const BENCH_TMP = join(__dirname, '..', '..', '..', '.bench-tmp');
const SOURCE = join(__dirname, '..', '..', '..', 'bench', 'workloads', 'labels', 'main.go');

/** True when `go` is on the PATH. */
export function haveGo(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the Go workload (bench/workloads/labels) under runtime/pprof and returns the profile path. The result is
 * cached in .bench-tmp keyed by the source and the arguments, so a second bench run reuses it.
 */
export function goWorkloadProfile(name: string, args: readonly string[]): string {
  mkdirSync(BENCH_TMP, { recursive: true });
  const source = readFileSync(SOURCE);
  const key = createHash('sha256').update(source).update(JSON.stringify(args)).digest('hex').slice(0, 16);
  const out = join(BENCH_TMP, `${name}.pb.gz`);
  const stamp = `${out}.key`;
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return out;
  const binary = join(BENCH_TMP, 'labels-workload');
  execFileSync('go', ['build', '-o', binary, SOURCE], {
    stdio: 'inherit',
    env: { ...process.env, GO111MODULE: 'off' },
  });
  process.stdout.write(`generating ${name} with the Go workload (${args.join(' ')})...\n`);
  execFileSync(binary, ['-o', out, ...args], { stdio: ['ignore', 'inherit', 'ignore'] });
  writeFileSync(stamp, key);
  return out;
}
