import type { Command } from 'commander';

// Placeholder until the owning capability lands; see the README for status.
export function registerAttributeCommand(program: Command): void {
  program.command('attribute').description('(not implemented yet)').action(() => {
    throw new Error('flamebill attribute is not implemented yet');
  });
}
