import { Injectable, Module } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/main';
import { Job } from '../../src/jobs/job.decorator';
import type { JobContext, JobOutcome, JobRunner } from '../../src/jobs/job-runner';
import type { WorkItem } from '../../src/jobs/work-queue.repository';
import type { CommitWrites, WorkHandler } from '../../src/jobs/work-runner';
import { startTestApp, type TestApp } from '../support/app';
import { testDatabaseUrl, testDataSource, truncateTables } from '../support/database';

/** Every item the test job handled, across the test's app instances (same process). */
const handled: string[] = [];

/** A job of this test's own: three items per run, each one row of `job_runs`-free work, plus its `--word` option. */
@Job({
  name: 'test-echo',
  description: 'a job registered by a test module',
  defaultSchedule: '0 0 1 1 *',
  options: [{ flags: '--word <word>', description: 'what the items echo' }],
})
@Injectable()
class EchoJob implements JobRunner, WorkHandler {
  readonly job = 'test-echo';
  readonly handlers = [this];

  async run(context: JobContext): Promise<JobOutcome> {
    const word = String(context.options.extra?.word ?? 'tick');
    const at = Date.now();
    const items = [1, 2, 3].map((n) => ({
      job: 'test-echo',
      itemKey: `${word}-${at}-${n}`,
      windowStart: new Date(at),
      windowEnd: new Date(at + 1),
      payload: { word },
    }));
    const settled = await context.work(items);
    return { status: 'succeeded', counts: { ...settled.counts }, errors: [] };
  }

  async handle(item: WorkItem, commit: CommitWrites): Promise<void> {
    handled.push(`${String(item.payload.word)}:${item.itemKey.slice(-1)}`);
    await commit(async () => undefined);
  }
}

@Module({ providers: [EchoJob] })
class EchoJobModule {}

describe('a job registered by its own module', () => {
  let db: DataSource;
  let app: TestApp | null = null;
  let configDir: string;
  const env = { ...process.env };

  beforeAll(async () => {
    db = await testDataSource();
    configDir = await mkdtemp(path.join(os.tmpdir(), 'flamebill-registry-'));
  });
  afterEach(async () => {
    await app?.close();
    app = null;
    process.env = { ...env };
    vi.restoreAllMocks();
    handled.length = 0;
  });
  afterAll(async () => {
    await rm(configDir, { recursive: true, force: true });
  });

  it('is listed by `flamebill run --help` next to the built-in jobs', async () => {
    let help = '';
    const program = buildProgram({ modules: [EchoJobModule] });
    program.exitOverride();
    const run = program.commands.find((c) => c.name() === 'run')!;
    run.exitOverride().configureOutput({ writeOut: (s) => void (help += s) });
    await expect(program.parseAsync(['node', 'flamebill', 'run', '--help'])).rejects.toThrow();
    expect(help).toMatch(/test-echo\s+0 0 1 1 \*\s+a job registered by a test module/);
    expect(help).toMatch(/\(test-echo\) what the items echo/);
    for (const job of ['pull', 'attribute', 'retention']) expect(help).toContain(`  ${job} `);
  });

  it('runs through `flamebill run test-echo --word hi`, recorded in job_runs', async () => {
    await truncateTables(db, ['job_runs', 'work_items']);
    process.env.DATABASE_URL = await testDatabaseUrl();
    process.env.FLAMEBILL_DATA_DIR = configDir;
    process.env.LOG_LEVEL = 'error';
    const config = path.join(configDir, 'flamebill.yaml');
    await writeFile(config, 'schedules:\n  demo: false\n');
    process.env.FLAMEBILL_CONFIG = config;
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0);
    await buildProgram({ modules: [EchoJobModule] }).parseAsync([
      'node',
      'flamebill',
      'run',
      'test-echo',
      '--word',
      'hi',
      '--json',
    ]);
    vi.restoreAllMocks();
    expect(process.exitCode ?? 0).toBe(0);
    expect(JSON.parse(out.join('').trim().split('\n').pop()!)).toEqual({
      job: 'test-echo',
      status: 'succeeded',
      counts: { done: 3, failed: 0 },
      errors: [],
    });
    expect(handled.sort()).toEqual(['hi:1', 'hi:2', 'hi:3']);
    const [run] = (await db.query(`SELECT job, status FROM job_runs`)) as Array<{ job: string; status: string }>;
    expect(run).toEqual({ job: 'test-echo', status: 'succeeded' });
  });

  it('refuses an option of another job', async () => {
    const program = buildProgram({ modules: [EchoJobModule] });
    await expect(program.parseAsync(['node', 'flamebill', 'run', 'retention', '--word', 'hi'])).rejects.toThrow(
      '--word is an option of job test-echo, not of retention',
    );
  });

  it('is scheduled from schedules.test-echo', async () => {
    await truncateTables(db, ['job_runs', 'work_items']);
    app = await startTestApp({
      modules: [EchoJobModule],
      settings: { schedules: { enabled: true, demo: false, 'test-echo': '* * * * * *' } },
    });
    await vi.waitFor(() => expect(handled.length).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 100 });
    expect(handled[0]).toMatch(/^tick:/);
    expect(app.app.get(SchedulerRegistry).getCronJob('flamebill-test-echo').cronTime.source).toBe('* * * * * *');
    await vi.waitFor(
      async () => {
        const [run] = (await db.query(
          `SELECT status FROM job_runs WHERE job = 'test-echo' ORDER BY id LIMIT 1`,
        )) as Array<{ status: string }>;
        expect(run?.status).toBe('succeeded');
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it('a schedule that names no job stops the start with the setting named', async () => {
    await expect(
      startTestApp({
        modules: [EchoJobModule],
        settings: { schedules: { enabled: true, demo: false, 'test-echoo': '* * * * *' } },
      }),
    ).rejects.toThrow(
      /invalid setting schedules\.test-echoo: no job has that name \(jobs: attribute, .*\btest-echo\b.*\)/,
    );
  });
});
