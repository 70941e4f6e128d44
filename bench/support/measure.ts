import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** Wall time, CPU time and peak RSS of one child process. */
export interface Measurement {
  readonly seconds: number;
  /** User + system CPU seconds: less sensitive than wall time to other work on a shared machine. */
  readonly cpuSeconds: number;
  readonly maxRssBytes: number;
  readonly exitCode: number;
  readonly stderr: string;
}

/**
 * Runs a command under GNU time (`/usr/bin/time -f`), discarding stdout (or writing it to `stdoutFile`), and returns
 * its wall time, CPU time and peak RSS (the largest of the process and its waited-for descendants).
 */
export function measure(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  stdoutFile?: string,
): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const stdout: 'ignore' | number = stdoutFile ? openSync(stdoutFile, 'w') : 'ignore';
    const child = spawn('/usr/bin/time', ['-f', '@@time %e %M %U %S', command, ...args], {
      stdio: ['ignore', stdout, 'pipe'],
      env,
    });
    if (typeof stdout === 'number') closeSync(stdout);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /@@time ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
      if (!m) return reject(new Error(`no timing from ${command}: ${stderr.slice(-500)}`));
      resolve({
        seconds: Number(m[1]),
        cpuSeconds: Number(m[3]) + Number(m[4]),
        maxRssBytes: Number(m[2]) * 1024,
        exitCode: code ?? -1,
        stderr: stderr.replace(/@@time.*\n?/, ''),
      });
    });
  });
}

/** The 1-minute load average, to report how busy the shared machine was. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** Runs `fn` once to warm up, then `runs` times: the median time and the last value. */
export function timedMedian<T>(fn: () => T, runs: number): { ms: number; value: T } {
  let value = fn();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    value = fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, value };
}
