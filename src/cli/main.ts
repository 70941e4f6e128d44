import 'reflect-metadata';
import { Command } from 'commander';
import { registerTopCommand } from './top.command';
import { registerAttributeCommand } from './attribute.command';
import { registerServeCommand } from './serve.command';
import { registerMigrateCommand } from './migrate.command';
import { registerRunCommand } from './run.command';

/** Builds the `flamebill` command line; every command lives in its own `*.command.ts`. */
export function buildProgram(): Command {
  const program = new Command('flamebill')
    .description('Cost attribution from continuous profiles: dollars per function, service and team.')
    .showHelpAfterError();
  registerServeCommand(program);
  registerMigrateCommand(program);
  registerRunCommand(program);
  registerTopCommand(program);
  registerAttributeCommand(program);
  return program;
}

if (require.main === module || process.argv[1]?.endsWith('flamebill.js') || process.argv[1]?.endsWith('flamebill')) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`flamebill: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
