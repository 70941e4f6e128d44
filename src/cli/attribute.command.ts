import type { Command } from 'commander';
import type { AttributeOptions } from './attribute-run';

// The work lives in attribute-run.ts, loaded when the command runs: `flamebill --help` and the other
// commands should not pay for YAML, zod and the cost engine.
export function registerAttributeCommand(program: Command): void {
  program
    .command('attribute')
    .description('Attribute a folder of profiles to dollars per team, service and function (offline, measured mode).')
    .requiredOption('--profiles <dir>', 'profiles: one service per file (name up to the first ".") or per sub-folder')
    .requiredOption('--catalog <dir>', 'Backstage catalog descriptor files (*.yaml)')
    .requiredOption('--prices <file>', 'YAML file with currency, prices (and cost) as in the settings file')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: AttributeOptions) => {
      const { runAttribute } = await import('./attribute-run.js');
      const out = await runAttribute(options);
      for (const w of out.warnings) process.stderr.write(`flamebill attribute: ${w}\n`);
      process.stdout.write(out.stdout);
    });
}
