import type { Logger as PinoLogger } from 'pino';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { TypeOrmPinoLogger } from './typeorm-logger';

/** Table where TypeORM records applied migrations. */
export const MIGRATIONS_TABLE = 'migrations';

export interface DataSourceConfig {
  readonly url: string;
  /** Maximum connections in the pool. */
  readonly poolSize?: number;
  /** Shows in pg_stat_activity, e.g. `flamebill-serve`. */
  readonly applicationName?: string;
  readonly logger?: PinoLogger;
  /** Queries slower than this are logged as warnings. */
  readonly slowQueryMs?: number;
}

/**
 * The one way flamebill builds a TypeORM DataSource (service, CLI commands, tests): PostgreSQL, no
 * entities (repositories write SQL), migrations listed in `migrations/index.ts`, never `synchronize`.
 * Not yet initialized.
 */
export function createDataSource(config: DataSourceConfig): DataSource {
  const verbose = config.logger?.isLevelEnabled('trace') ?? false;
  return new DataSource({
    type: 'postgres',
    url: config.url,
    entities: [],
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    synchronize: false,
    // Without a logger (tests, tools) TypeORM would print failed queries to the console: stay quiet.
    logging: config.logger ? (verbose ? 'all' : ['error', 'warn', 'migration']) : false,
    ...(config.logger ? { logger: new TypeOrmPinoLogger(config.logger.child({ context: 'TypeORM' })) } : {}),
    maxQueryExecutionTime: config.slowQueryMs ?? 2_000,
    poolSize: config.poolSize ?? 10,
    connectTimeoutMS: 10_000,
    applicationName: config.applicationName ?? 'flamebill',
  });
}
