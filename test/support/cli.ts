import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO_ROOT, 'bin', 'flamebill.js');

/** Environment for a child CLI: this process's, minus settings that would leak in, plus `env`. */
export function cliEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of [
    'DATABASE_URL',
    'PORT',
    'FLAMEBILL_CONFIG',
    'FLAMEBILL_DATA_DIR',
    'FLAMEBILL_CATALOG_DIR',
    'LOG_LEVEL',
  ])
    delete base[key];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

let built: Promise<void> | null = null;

/**
 * Compiles the CLI (`tsc -p tsconfig.build.json`, incremental) once per test file, under a lock so
 * files running in parallel do not write dist/ at the same time. Type errors elsewhere in the tree
 * do not stop the emit; they are reported to stderr.
 */
export function ensureBuilt(): Promise<void> {
  built ??= (async () => {
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      await execFileAsync(
        'flock',
        ['/tmp/flamebill-test-build.lock', process.execPath, tsc, '-p', 'tsconfig.build.json'],
        {
          cwd: REPO_ROOT,
          maxBuffer: 16 * 1024 * 1024,
        },
      );
    } catch (error) {
      const output = (error as { stdout?: string }).stdout ?? String(error);
      process.stderr.write(`tsc reported errors (the build was emitted anyway):\n${output.slice(0, 2000)}\n`);
    }
    if (!existsSync(path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js')))
      throw new Error('build produced no dist/src/cli/main.js');
  })();
  return built;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/flamebill.js ...args` to completion. */
export function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `flamebill serve` child process. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** stdout so far (JSON log lines). */
  output(): string;
  /** Resolves with the exit code once the process ends. */
  readonly exited: Promise<number | null>;
}

/**
 * Starts `node bin/flamebill.js serve` and resolves once it logged its URL.
 * @throws Error with the process output when it exits or stays silent for `timeoutMs`.
 */
export function spawnServe(options: {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not print its URL in time\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    const onData = (): void => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(stdout);
      if (!match?.[1]) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({ child, url: match[1], output: () => stdout, exited });
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${String(code)} before listening\n${stdout}\n${stderr}`));
    });
  });
}
