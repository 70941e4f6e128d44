import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, ensureBuilt, runCli, spawnServe, type ServeProcess } from '../support/cli';

/*
 * The embedded-database path end to end: `node bin/flamebill.js serve` with no DATABASE_URL and a
 * fresh FLAMEBILL_DATA_DIR, as a user would run it. Kept in its own file so CI can run it separately.
 */

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flamebill-embedded-'));
chmodSync(dataDir, 0o755);
const pgData = path.join(dataDir, 'pg');
const env = cliEnv({ FLAMEBILL_DATA_DIR: dataDir, PORT: '0' });
const running: ServeProcess[] = [];

beforeAll(() => ensureBuilt(), 180_000);
afterAll(async () => {
  for (const serve of running) serve.child.kill('SIGKILL');
  for (const pid of postgresServing(pgData)) process.kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function startServe(): Promise<ServeProcess> {
  const serve = await spawnServe({ env, cwd: dataDir, timeoutMs: 90_000 });
  running.push(serve);
  return serve;
}

/** Pids of PostgreSQL server processes started on `dir` (the postmaster's command line names it). */
function postgresServing(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args.some((arg) => arg.endsWith('/postgres')) && args.includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function instanceState(): { ownerPid: number; postmasterPid: number; port: number } {
  return JSON.parse(readFileSync(path.join(dataDir, 'embedded-postgres.json'), 'utf8')) as {
    ownerPid: number;
    postmasterPid: number;
    port: number;
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readyz(
  url: string,
): Promise<{ status: number; body: { status: string; details: Record<string, { status: string }> } }> {
  const response = await fetch(`${url}/readyz`);
  return {
    status: response.status,
    body: (await response.json()) as { status: string; details: Record<string, { status: string }> },
  };
}

describe('serve on the embedded PostgreSQL', () => {
  it('initializes a fresh data dir, is ready, shares its server with CLI commands, and stops it on SIGINT', async () => {
    const serve = await startServe();
    const ready = await readyz(serve.url);
    expect(ready.status).toBe(200);
    expect(ready.body.details).toMatchObject({ database: { status: 'up' }, migrations: { status: 'up' } });
    const state = instanceState();
    expect(state.ownerPid).toBe(serve.child.pid);
    expect(postgresServing(pgData)).toEqual([state.postmasterPid]);
    // A first start (no source, empty database) says where the dashboard is and that the demo is loading.
    for (let i = 0; i < 100 && !serve.output().includes('"dashboard"'); i++)
      await new Promise((r) => setTimeout(r, 50));
    const lines = serve
      .output()
      .split('\n')
      .filter((line) => line.includes('"dashboard"'))
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(lines).toEqual([
      `dashboard: ${serve.url}/; demo: loading 4 weeks of the shipped demo profiles (a simulated fleet, see demo/README.md), numbers appear within about 60 s`,
    ]);

    const migrate = await runCli(['migrate'], { env, cwd: dataDir });
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain(`@127.0.0.1:${state.port}/flamebill is up to date`);
    expect(postgresServing(pgData)).toEqual([state.postmasterPid]); // no second server was started

    const second = await runCli(['serve'], { env, cwd: dataDir });
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(
      `flamebill: another flamebill serve (pid ${serve.child.pid}) already runs the embedded PostgreSQL of ${dataDir}; stop it first or set DATABASE_URL\n`,
    );

    serve.child.kill('SIGINT');
    expect(await serve.exited).toBe(0);
    expect(postgresServing(pgData)).toEqual([]);
    expect(isAlive(state.postmasterPid)).toBe(false);
    expect(existsSync(path.join(dataDir, 'embedded-postgres.json'))).toBe(false);
  }, 180_000);

  it('recovers by itself after the service was killed with kill -9', async () => {
    const first = await startServe();
    const orphan = instanceState().postmasterPid;
    first.child.kill('SIGKILL');
    await first.exited;
    expect(isAlive(orphan)).toBe(true); // PostgreSQL outlives its owner, holding postmaster.pid

    const second = await startServe();
    expect((await readyz(second.url)).status).toBe(200);
    expect(second.output()).toContain(
      `previous flamebill process ${first.child.pid} is gone but its PostgreSQL (pid ${orphan}) still runs: stopping it`,
    );
    expect(isAlive(orphan)).toBe(false);
    const state = instanceState();
    expect(state.ownerPid).toBe(second.child.pid);
    expect(postgresServing(pgData)).toEqual([state.postmasterPid]);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(postgresServing(pgData)).toEqual([]);
  }, 180_000);

  it('lets a CLI command start the embedded server for itself and stop it afterwards', async () => {
    const status = await runCli(['migrate', '--status'], { env, cwd: dataDir });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^applied {2}InitialSchema1795318535842$/m);
    expect(postgresServing(pgData)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'embedded-postgres.json'))).toBe(false);
  }, 120_000);
});
