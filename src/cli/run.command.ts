import type { Type } from '@nestjs/common';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { JobMeta } from '../jobs/job.decorator';

/** What `flamebill run` knows before the application starts: the declared jobs, and modules to add (tests). */
export interface RunCommandOptions {
  readonly jobs: readonly JobMeta[];
  readonly modules?: readonly Type[];
}

interface RunFlags {
  from?: Date;
  to?: Date;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
  [option: string]: unknown;
}

const COMMON = new Set(['from', 'to', 'force', 'dryRun', 'json']);

/**
 * `flamebill run JOB`: every job the application declares (`@Job`), with the options each declares. The list comes
 * from the job registry's declarations, so a new job appears here without a change to this file.
 */
export function registerRunCommand(program: Command, options: RunCommandOptions): void {
  const jobs = new Map(options.jobs.map((j) => [j.name, j]));
  const names = [...jobs.keys()];
  const command = program
    .command('run')
    .description('run one scheduled job once (e.g. a backfill of a range); jobs are listed below')
    .argument('<job>', `one of ${names.join(', ')}`, (value: string) => {
      if (!jobs.has(value)) throw new InvalidArgumentError(`expected one of ${names.join(', ')}`);
      return value;
    })
    .option('--from <time>', 'start of the range (ISO 8601, UTC); whole windows are processed', parseTime)
    .option('--to <time>', 'end of the range, exclusive', parseTime)
    .option('--force', 're-do windows that were already processed (after a fix or a price change)')
    .option(
      '--dry-run',
      'jobs with outside effects (email, tickets) log and store what they would send, and send nothing',
    )
    .option('--json', 'print the run summary as JSON');
  const owners = new Map<string, string>();
  for (const job of options.jobs) {
    for (const option of job.options ?? []) {
      command.option(option.flags, `(${job.name}) ${option.description}`);
      owners.set(attributeName(option.flags), job.name);
    }
  }
  command.addHelpText(
    'after',
    `\nJobs (default schedule, UTC unless noted; schedules.<job> overrides it):\n${options.jobs.map((j) => `  ${j.name.padEnd(16)} ${j.defaultSchedule.padEnd(14)} ${j.description}`).join('\n')}\n`,
  );
  command.action(async (job: string, flags: RunFlags) => {
    if ((flags.from === undefined) !== (flags.to === undefined)) throw new Error('--from and --to go together');
    const extra: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(flags)) {
      if (COMMON.has(key) || value === undefined) continue;
      if (owners.get(key) !== job)
        throw new Error(`--${kebab(key)} is an option of job ${owners.get(key)}, not of ${job}`);
      extra[key] = value;
    }
    const { runJob } = await import('./run-job.js');
    process.exitCode = await runJob(
      job,
      { from: flags.from, to: flags.to, force: flags.force, dryRun: flags.dryRun, json: flags.json, extra },
      options.modules,
    );
  });
}

function parseTime(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new InvalidArgumentError(`expected an ISO 8601 time such as 2026-11-01T00:00:00Z, got "${value}"`);
  return date;
}

/** commander's attribute name of `--baseline-from <t>`: `baselineFrom`. */
function attributeName(flags: string): string {
  const long = /--([a-z0-9-]+)/.exec(flags)?.[1] ?? flags;
  return long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
