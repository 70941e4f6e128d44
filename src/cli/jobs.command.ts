import type { Command } from 'commander';

export function registerJobsCommand(program: Command): void {
  program
    .command('jobs')
    .description('run the scheduled jobs without HTTP (flamebill serve starts this as its child process)')
    .action(async () => {
      const { runJobsProcess } = await import('../server/run-jobs.js');
      await runJobsProcess();
    });
}
