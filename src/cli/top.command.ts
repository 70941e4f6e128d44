import type { Command } from 'commander';

// Placeholder until the owning capability lands; see the README for status.
export function registerTopCommand(program: Command): void {
  program.command('top').description('(not implemented yet)').action(() => {
    throw new Error('flamebill top is not implemented yet');
  });
}
