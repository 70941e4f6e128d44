import type { Command } from 'commander';

// Placeholder until the owning capability lands; see the README for status.
export function registerMigrateCommand(program: Command): void {
  program.command('migrate').description('(not implemented yet)').action(() => {
    throw new Error('flamebill migrate is not implemented yet');
  });
}
