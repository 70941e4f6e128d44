import type { Command } from 'commander';

// Placeholder until the owning capability lands; see the README for status.
export function registerServeCommand(program: Command): void {
  program.command('serve').description('(not implemented yet)').action(() => {
    throw new Error('flamebill serve is not implemented yet');
  });
}
