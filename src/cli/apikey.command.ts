import type { Command } from 'commander';

/**
 * `flamebill apikey create --name NAME --scope read [--scope export]`, `apikey list`, `apikey revoke NAME`: the finance
 * API's keys (docs/api.md). `create` prints the key once, as the last word of its output.
 */
export function registerApikeyCommand(program: Command): void {
  const apikey = program.command('apikey').description('manage the finance API keys (create prints the new key once)');
  apikey
    .command('create')
    .description('create a key; prints it once, as the last word of the output (only its hash is stored)')
    .requiredOption('--name <name>', 'a name for the key (letters, digits, . _ -), unique among active keys')
    .option('--scope <scope...>', 'read, export or admin (repeat, or separate with commas)', ['read'])
    .action(async (options: { name: string; scope: string[] }) => {
      // Loaded on demand so that other commands do not pay for TypeORM.
      const { createApiKey } = await import('../api/auth/apikey-cli.js');
      await createApiKey(
        options.name,
        options.scope
          .flatMap((s) => s.split(','))
          .map((s) => s.trim())
          .filter(Boolean),
      );
    });
  apikey
    .command('list')
    .description('list keys (name, key prefix, scopes, created, last used, revoked); never the keys themselves')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { listApiKeys } = await import('../api/auth/apikey-cli.js');
      await listApiKeys(options.json === true);
    });
  apikey
    .command('revoke')
    .description('revoke the active key of that name: it answers 401 from now on')
    .argument('<name>', 'the key name')
    .action(async (name: string) => {
      const { revokeApiKey } = await import('../api/auth/apikey-cli.js');
      await revokeApiKey(name);
    });
}
