import type { Command } from 'commander';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the service: HTTP API, dashboard and scheduled jobs (what npm start runs)')
    .action(async () => {
      // Loaded on demand: Nest takes about a second to load, which other commands should not pay.
      const { serve } = await import('../server/serve.js');
      await serve();
    });
}
