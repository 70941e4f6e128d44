import type { Logger as PinoLogger } from 'pino';
import type { Logger } from 'typeorm';

/**
 * Sends TypeORM's messages to pino instead of the console. Failed queries are logged at debug:
 * the error reaches the caller, which knows whether it matters (a unique violation may be expected).
 */
export class TypeOrmPinoLogger implements Logger {
  constructor(private readonly logger: PinoLogger) {}

  logQuery(query: string, parameters?: unknown): void {
    this.logger.trace({ query, parameters }, 'query');
  }

  logQueryError(error: string | Error, query: string, parameters?: unknown): void {
    this.logger.debug({ query, parameters, err: error }, 'query failed');
  }

  logQuerySlow(timeMs: number, query: string, parameters?: unknown): void {
    this.logger.warn({ query, parameters, timeMs }, 'slow query');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.info(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug(String(message));
  }
}
