import type { Command } from 'commander';

// Placeholder until the owning capability lands; see the README for status.
export function registerRunCommand(program: Command): void {
  program.command('run').description('(not implemented yet)').action(() => {
    throw new Error('flamebill run is not implemented yet');
  });
}
