import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryOnce } from '../../src/database/query-once';
import { CLI, cliEnv, ensureBuilt, REPO_ROOT, runCli } from '../support/cli';
import { testDatabaseUrl } from '../support/database';
import { startSmtpSink, type SmtpSink } from './smtp-sink';
import { spawn } from 'node:child_process';

/**
 * `flamebill run weekly-report` killed with SIGKILL in the middle of an SMTP transaction, then run again: the message
 * the server never accepted is sent by the next run, once.
 */
describe('weekly report after kill -9', () => {
  let smtp: SmtpSink;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await ensureBuilt();
    smtp = await startSmtpSink();
    dir = mkdtempSync(path.join(os.tmpdir(), 'flamebill-report-crash-'));
    const config = path.join(dir, 'flamebill.yaml');
    writeFileSync(
      config,
      `schedules:\n  demo: false\n  worker: { leaseSeconds: 2 }\nreport:\n  smtp: { host: 127.0.0.1, port: ${smtp.port} }\n`,
    );
    env = cliEnv({
      DATABASE_URL: await testDatabaseUrl(),
      FLAMEBILL_CONFIG: config,
      FLAMEBILL_DATA_DIR: dir,
      LOG_LEVEL: 'error',
    });
  }, 180_000);
  afterAll(async () => {
    await smtp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a run killed while the server has not accepted the message leaves it to the next run, which sends it once', async () => {
    // The catalog is read at start; let it load before the report runs.
    const args = ['run', 'weekly-report', '--week', '2026-W48', '--team', 'payments'];
    const stalled = smtp.stallNext();
    const first = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env, stdio: 'ignore' });
    await stalled;
    first.kill('SIGKILL');
    await new Promise((resolve) => first.on('exit', resolve));
    expect(smtp.received).toHaveLength(0);
    const [during] = await queryOnce<{ status: string }>(
      env.DATABASE_URL!,
      `SELECT status FROM report_deliveries WHERE week = '2026-W48'`,
    );
    expect(during!.status).toBe('sending');

    const second = await runCli(args, { env, timeoutMs: 60_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(smtp.received.map((r) => r.rcptTo)).toEqual([['payments-team@acme.example']]);
    const [after] = await queryOnce<{ status: string; attempts: number }>(
      env.DATABASE_URL!,
      `SELECT status, attempts FROM report_deliveries WHERE week = '2026-W48'`,
    );
    expect(after).toEqual({ status: 'sent', attempts: 2 });

    const third = await runCli(args, { env, timeoutMs: 60_000 });
    expect(third.code).toBe(0);
    expect(smtp.received).toHaveLength(1);
  }, 120_000);
});
