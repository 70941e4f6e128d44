import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { queryOnce } from '../../src/database/query-once';
import { cliEnv, ensureBuilt, spawnServe, type ServeProcess } from '../support/cli';
import { createEmptyDatabase } from '../support/database';

/** Pids of the `flamebill jobs` children of `parent`. */
function jobsChildren(parent: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === parent && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('jobs');
      } catch {
        return false;
      }
    })
    .map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `flamebill serve` answers HTTP in one process and runs the scheduled jobs in a child (`schedules.process:
 * separate`, the default): attribution never runs on the thread that answers pushes.
 */
describe('the jobs process of flamebill serve', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flamebill-jobs-'));
  let serve: ServeProcess;
  let databaseUrl: string;

  beforeAll(async () => {
    chmodSync(dataDir, 0o755);
    await ensureBuilt();
    databaseUrl = await createEmptyDatabase('jobsproc');
    serve = await spawnServe({
      env: cliEnv({ DATABASE_URL: databaseUrl, PORT: '0', FLAMEBILL_DATA_DIR: dataDir }),
      timeoutMs: 90_000,
    });
  }, 180_000);
  afterAll(() => {
    serve?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const readyz = async (): Promise<{ jobs?: { status: string; pid?: number } }> =>
    ((await (await fetch(`${serve.url}/readyz`)).json()) as { details: { jobs?: { status: string; pid?: number } } })
      .details;

  it('attributes the first start in a child process, restarts it when it dies, and the child ends with its parent', async () => {
    const parent = serve.child.pid!;
    await vi.waitFor(() => expect(jobsChildren(parent)).toHaveLength(1), { timeout: 20_000, interval: 200 });
    const [child] = jobsChildren(parent);
    expect((await readyz()).jobs).toEqual({ status: 'up', pid: child });

    // The demo is loaded and attributed by the child: every attribution lease was held by its pid, none by the server's.
    await vi.waitFor(
      async () => {
        const rows = await queryOnce<{ n: number }>(
          databaseUrl,
          `SELECT count(*)::int AS n FROM work_items WHERE job = 'attribute' AND status = 'done'`,
        );
        // The first start's demo: 28 days of hourly windows (src/domain/demo/replay-plan.ts).
        expect(rows[0]!.n).toBeGreaterThanOrEqual(28 * 24);
      },
      { timeout: 120_000, interval: 500 },
    );
    const owners = await queryOnce<{ owner: string }>(
      databaseUrl,
      `SELECT DISTINCT split_part(lease_owner, ':', 2) AS owner FROM work_items WHERE job = 'attribute'`,
    );
    expect(owners).toEqual([{ owner: String(child) }]);

    // A jobs process that dies is restarted; the server keeps answering meanwhile.
    process.kill(child!, 'SIGKILL');
    await vi.waitFor(async () => expect((await readyz()).jobs?.status).toBe('degraded'), {
      timeout: 5_000,
      interval: 100,
    });
    await vi.waitFor(() => expect(jobsChildren(parent).filter((pid) => pid !== child)).toHaveLength(1), {
      timeout: 20_000,
      interval: 200,
    });
    const [restarted] = jobsChildren(parent);
    await vi.waitFor(async () => expect((await readyz()).jobs).toEqual({ status: 'up', pid: restarted }), {
      timeout: 10_000,
      interval: 200,
    });

    // kill -9 of the server: its jobs process notices (its IPC channel closes) and exits.
    serve.child.kill('SIGKILL');
    await serve.exited;
    await vi.waitFor(() => expect(alive(restarted!)).toBe(false), { timeout: 20_000, interval: 200 });
  }, 180_000);
});
