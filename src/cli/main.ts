import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { Command } from 'commander';
import { declaredJobs } from '../jobs/job.decorator';
import { registerTopCommand } from './top.command';
import { registerAttributeCommand } from './attribute.command';
import { registerServeCommand } from './serve.command';
import { registerJobsCommand } from './jobs.command';
import { registerReportCommand } from './report.command';
import { registerMigrateCommand } from './migrate.command';
import { registerRunCommand } from './run.command';
import { registerApikeyCommand } from './apikey.command';
import { registerDiffCommand } from './diff.command';

/**
 * Builds the `flamebill` command line; every command lives in its own `*.command.ts`. `run` lists the jobs declared
 * by the application's modules, which the caller loads first (`loadJobs`) when that command is asked for.
 */
export function buildProgram(options: { modules?: readonly Type[] } = {}): Command {
  const program = new Command('flamebill')
    .description('Cost attribution from continuous profiles: dollars per function, service and team.')
    .showHelpAfterError();
  registerServeCommand(program);
  registerJobsCommand(program);
  registerMigrateCommand(program);
  registerRunCommand(program, { jobs: declaredJobs(), modules: options.modules });
  registerTopCommand(program);
  registerAttributeCommand(program);
  registerApikeyCommand(program);
  registerReportCommand(program);
  registerDiffCommand(program);
  return program;
}

if (require.main === module || process.argv[1]?.endsWith('flamebill.js') || process.argv[1]?.endsWith('flamebill')) {
  loadJobs(process.argv[2])
    .then(() => buildProgram().parseAsync(process.argv))
    .catch((err: unknown) => {
      process.stderr.write(`flamebill: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}

/** Loads the application's modules, whose `@Job` declarations `flamebill run` lists; other commands skip the cost. */
async function loadJobs(command: string | undefined): Promise<void> {
  if (command === 'run') await import('../app.module.js');
}
