import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { createDataSource } from './data-source';
import { runMigrations } from './migrations';

export interface DatabaseModuleOptions {
  /** Resolved before Nest starts (see `openDatabaseTarget`), so a wrong URL fails with one line. */
  readonly url: string;
  readonly poolSize: number;
  /** Apply pending migrations while the module initializes (the service does; tests apply them once). */
  readonly migrateOnStart: boolean;
  readonly logger: Logger;
  readonly applicationName?: string;
}

/**
 * Provides the TypeORM `DataSource` to every module (inject `DataSource`). Repositories write SQL:
 * `dataSource.query(sql, params)`, or `inTransaction(dataSource, (manager) => ...)` and
 * `withPgClient` / `withPgTransaction` (src/database/transactions.ts) for bulk work on pg itself.
 * The DataSource is closed when the application closes.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    const dataSourceOptions = createDataSource({
      url: options.url,
      poolSize: options.poolSize,
      logger: options.logger,
      applicationName: options.applicationName ?? 'flamebill-serve',
    }).options;
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          // One attempt: the URL was checked already, and retries would only delay a clear failure.
          useFactory: () => ({ ...dataSourceOptions, retryAttempts: 1, toRetry: () => false }),
          dataSourceFactory: async (resolved?: DataSourceOptions) => {
            const dataSource = await new DataSource(resolved ?? dataSourceOptions).initialize();
            if (options.migrateOnStart) {
              const applied = await runMigrations(dataSource);
              if (applied.length > 0)
                options.logger.info(
                  { context: 'Database', migrations: applied },
                  `applied ${applied.length} migration(s)`,
                );
            }
            return dataSource;
          },
        }),
      ],
      exports: [TypeOrmModule],
    };
  }
}
