import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';

const JOBS = ['pull', 'attribute', 'retention'] as const;

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run one scheduled job once: pull | attribute | retention (e.g. a backfill of a range)')
    .argument('<job>', `one of ${JOBS.join(', ')}`, (value: string) => {
      if (!(JOBS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${JOBS.join(', ')}`);
      return value as (typeof JOBS)[number];
    })
    .option('--from <time>', 'start of the range (ISO 8601, UTC); whole windows are processed', parseTime)
    .option('--to <time>', 'end of the range, exclusive', parseTime)
    .option('--force', 're-do windows that were already processed (after a fix or a price change)')
    .option('--json', 'print the run summary as JSON')
    .action(async (job: (typeof JOBS)[number], options: { from?: Date; to?: Date; force?: boolean; json?: boolean }) => {
      if ((options.from === undefined) !== (options.to === undefined)) throw new Error('--from and --to go together');
      const { runJob } = await import('./run-job.js');
      process.exitCode = await runJob(job, options);
    });
}

function parseTime(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) throw new InvalidArgumentError(`expected an ISO 8601 time such as 2026-11-01T00:00:00Z, got "${value}"`);
  return date;
}
