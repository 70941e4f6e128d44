import { constants } from 'node:fs';
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The running embedded instance of one data directory, written next to it so every flamebill process
 * (the service, `flamebill migrate`, `flamebill run`) finds and shares it instead of starting a second one.
 */
export interface InstanceState {
  readonly version: 1;
  readonly port: number;
  readonly postmasterPid: number;
  /** The flamebill process that started PostgreSQL and will stop it. */
  readonly ownerPid: number;
  /** The owner's start time from /proc (clock ticks since boot), to tell a reused pid from the owner. */
  readonly ownerStartTicks: string | null;
  /** What the owner is: a service runs for long; a CLI command stops the database when it ends. */
  readonly ownerRole: OwnerRole;
  readonly startedAt: string;
}

export type OwnerRole = 'serve' | 'cli';

export const INSTANCE_FILE = 'embedded-postgres.json';
const LOCK_FILE = 'embedded-postgres.lock';

export async function readInstanceState(dataDir: string): Promise<InstanceState | null> {
  const text = await readFile(path.join(dataDir, INSTANCE_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const state = JSON.parse(text) as InstanceState;
    return state.version === 1 && Number.isInteger(state.port) && Number.isInteger(state.postmasterPid) ? state : null;
  } catch {
    return null; // a torn write from a killed process: treat as absent, the pid files decide
  }
}

/** Writes atomically (rename), so a reader never sees half a file. */
export async function writeInstanceState(dataDir: string, state: InstanceState): Promise<void> {
  const file = path.join(dataDir, INSTANCE_FILE);
  await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  await rename(`${file}.tmp`, file);
}

export async function removeInstanceState(dataDir: string): Promise<void> {
  await unlink(path.join(dataDir, INSTANCE_FILE)).catch(() => undefined);
}

/** The first lines of PostgreSQL's `postmaster.pid`: pid, data directory, start time, port. */
export interface PostmasterPidFile {
  readonly pid: number;
  readonly port: number;
}

export async function readPostmasterPid(pgData: string): Promise<PostmasterPidFile | null> {
  const text = await readFile(path.join(pgData, 'postmaster.pid'), 'utf8').catch(() => null);
  if (text === null) return null;
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && pid > 0 ? { pid, port: Number.isInteger(port) ? port : 0 } : null;
}

/** True when a process with this pid exists (also when it belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or null off Linux. */
export async function processStartTicks(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

/** True when `pid` runs and is the process that wrote `state` (not a later process that reused the pid). */
export async function isOwnerAlive(state: InstanceState): Promise<boolean> {
  if (!isProcessAlive(state.ownerPid)) return false;
  if (state.ownerStartTicks === null) return true;
  const ticks = await processStartTicks(state.ownerPid);
  return ticks === null || ticks === state.ownerStartTicks;
}

/** True when `pid` is a PostgreSQL server process serving `pgData` (checked through /proc where available). */
export async function isPostmasterOf(pid: number, pgData: string): Promise<boolean> {
  if (!isProcessAlive(pid)) return false;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  if (cmdline === null) return true;
  const args = cmdline.split('\0');
  return args.some((arg) => arg.endsWith('postgres')) && args.includes(pgData);
}

/**
 * Sends SIGINT (PostgreSQL's "fast shutdown": roll back open transactions, then exit cleanly) and waits
 * for the process to go; escalates to SIGQUIT, then SIGKILL, if it does not.
 * @returns how the process ended.
 */
export async function stopProcess(pid: number, graceMs = 30_000): Promise<'stopped' | 'quit' | 'killed' | 'absent'> {
  if (!isProcessAlive(pid)) return 'absent';
  const steps: Array<[NodeJS.Signals, number, 'stopped' | 'quit' | 'killed']> = [
    ['SIGINT', graceMs, 'stopped'],
    ['SIGQUIT', 5_000, 'quit'],
    ['SIGKILL', 5_000, 'killed'],
  ];
  for (const [signal, waitMs, outcome] of steps) {
    try {
      process.kill(pid, signal);
    } catch {
      return 'stopped';
    }
    if (await waitForExit(pid, waitMs)) return outcome;
  }
  throw new Error(`process ${pid} did not exit after SIGKILL`);
}

async function isOlderThan(file: string, ageMs: number): Promise<boolean> {
  const info = await stat(file).catch(() => null);
  return info === null || Date.now() - info.mtimeMs > ageMs;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await sleep(25);
  }
  return !isProcessAlive(pid);
}

/**
 * Runs `action` while holding an exclusive lock file in `dataDir`, so two flamebill processes never
 * start or stop the same instance at once. A lock left by a dead process is taken over.
 */
export async function withInstanceLock<T>(dataDir: string, action: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const file = path.join(dataDir, LOCK_FILE);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(file, 'utf8').catch(() => ''));
      const written = Number.isInteger(holder) && holder > 0;
      // An empty lock file is being written by its holder right now, unless it has been empty for long.
      const abandoned = written ? !isProcessAlive(holder) : await isOlderThan(file, 5_000);
      if (abandoned) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`embedded PostgreSQL in ${dataDir} stays locked by process ${holder}`);
      await sleep(100);
    }
  }
  try {
    return await action();
  } finally {
    await unlink(file).catch(() => undefined);
  }
}
