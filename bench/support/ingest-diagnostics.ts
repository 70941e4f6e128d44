import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds (user + system) used so far by a PostgreSQL server: the postmaster, every live backend and auxiliary
 * process it forked, and (the postmaster's cutime/cstime) those that exited, e.g. autovacuum workers. Read from
 * /proc, so only for a server on this machine (the bench's embedded one).
 */
export function postgresCpuSeconds(postmasterPid: number): number {
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmasterPid)], { encoding: 'utf8' })
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  const ticksPerSecond = 100; // USER_HZ on Linux
  let ticks = 0;
  for (const pid of [postmasterPid, ...children]) {
    try {
      // Fields after the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based).
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      if (pid === postmasterPid) ticks += Number(fields[13]) + Number(fields[14]);
    } catch {
      // The process exited between ps and the read.
    }
  }
  return ticks / ticksPerSecond;
}

/** What a wait-event sampler saw: samples per `type:event` (`CPU` when the backend was running). */
export type WaitCounts = Record<string, number>;

/**
 * Samples `pg_stat_activity` every `intervalMs` until stopped: for the active client backends, what each is waiting
 * on (the wait event, or CPU). The top entries say whether inserts wait on the WAL flush, on extending a relation,
 * on locks, or compute.
 */
export function sampleWaits(
  query: (sql: string) => Promise<unknown[]>,
  intervalMs = 25,
): { stop(): Promise<WaitCounts> } {
  const counts: WaitCounts = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      const rows = (await query(
        `SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') AS w FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()`,
      )) as Array<{ w: string }>;
      for (const { w } of rows) counts[w] = (counts[w] ?? 0) + 1;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return counts;
    },
  };
}

/** The `n` most frequent entries, as `event share%`. */
export function topWaits(counts: WaitCounts, n = 6): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total === 0) return 'none sampled';
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([w, c]) => `${w} ${((100 * c) / total).toFixed(0)}%`)
    .join(', ');
}

/**
 * CPU seconds per thread of this process, grouped: `main` (the event loop), and the other threads by their name
 * (`/proc/self/task/<tid>/comm`: worker threads, libuv's pool, V8's GC and compiler helpers). Threads that exited
 * are not counted.
 */
export function threadCpuSeconds(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const name = Number(tid) === process.pid ? 'main' : readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // The thread exited.
    }
  }
  return out;
}
