import type { Command } from 'commander';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (the service also applies them when it starts)')
    .option('--status', 'list applied and pending migrations without changing anything')
    .action(async (options: { status?: boolean }) => {
      await migrate(options.status === true);
    });
}

/**
 * Applies pending migrations to the database the service would use (a running service's embedded
 * PostgreSQL is shared, not started twice) and prints one line per migration on stdout.
 */
export async function migrate(statusOnly: boolean): Promise<void> {
  // Loaded on demand so that `flamebill --help` and other commands do not pay for zod and pino.
  const { loadSettings } = await import('../config/settings.loader.js');
  const { createCliLogger } = await import('../logging/root-logger.js');
  const settings = loadSettings();
  // Loaded on demand so that `flamebill --help` and other commands do not pay for TypeORM.
  const { migrationStatus, runMigrations } = await import('../database/migrations.js');
  const { openCliDatabase } = await import('../database/open-database.js');
  const logger = createCliLogger(settings.logging.level === 'info' ? 'warn' : settings.logging.level);
  const database = await openCliDatabase(settings, logger, 'flamebill-migrate');
  try {
    if (statusOnly) {
      const status = await migrationStatus(database.dataSource);
      const pending = new Set(status.pending);
      for (const name of status.expected)
        process.stdout.write(`${pending.has(name) ? 'pending' : 'applied'}  ${name}\n`);
      return;
    }
    const applied = await runMigrations(database.dataSource);
    for (const name of applied) process.stdout.write(`applied  ${name}\n`);
    const { expected } = await migrationStatus(database.dataSource);
    process.stdout.write(`database ${database.target.displayUrl} is up to date (${expected.length} migrations)\n`);
  } finally {
    await database.close();
  }
}
