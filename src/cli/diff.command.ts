import type { Command } from 'commander';

/** Options of `flamebill diff`. */
export interface DiffOptions {
  readonly sampleType?: string;
  readonly json?: boolean;
}

/** `flamebill diff BASE CURRENT [--sample-type T] [--json]`: the functions whose share of the profile grew significantly. */
export function registerDiffCommand(program: Command): void {
  program
    .command('diff')
    .description('functions whose share (flat or cum) grew significantly from BASE to CURRENT, most CPU first')
    .argument('<base>', 'baseline profile: pprof (.pb, .pb.gz), folded stacks, V8 .cpuprofile or speedscope JSON')
    .argument('<current>', 'current profile, same formats')
    .option('--sample-type <name>', 'sample type to compare (type name such as cpu, or type/unit); default as pprof')
    .option(
      '--json',
      'print JSON: {"regressions":[{"function","kind","baseShare","currentShare","pValue","cpuNanosecondsDelta"}]}',
    )
    .action(async (base: string, current: string, options: DiffOptions) => {
      // The implementation pulls in the tree builder and statistics: loaded only when this command runs.
      const { runDiff } = await import('./diff-run.js');
      process.stdout.write(runDiff(base, current, options));
    });
}
