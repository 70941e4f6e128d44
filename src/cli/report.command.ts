import type { Command } from 'commander';

export function registerReportCommand(program: Command): void {
  const report = program
    .command('report')
    .description('the weekly cost report: preview a message before anything is sent');
  report
    .command('preview')
    .description("write one team's (or the organisation's) weekly email as an HTML file, to open in a browser")
    .option('--team <name>', "the team's report (default: the organisation's)")
    .option('--week <iso-week>', 'ISO week, e.g. 2026-W49 (default: the last complete week)')
    .requiredOption('--out <file>', 'where to write the HTML')
    .action(async (options: { team?: string; week?: string; out: string }) => {
      const { previewReport } = await import('./report-preview.js');
      process.exitCode = await previewReport(options);
    });
}
