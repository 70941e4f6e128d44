import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AppLogger } from './app-logger';
import { assignRequestId } from './request-id';

/** Injection token of the root pino logger (for code that wants pino itself rather than Nest's Logger). */
export const ROOT_LOGGER = Symbol('flamebill.rootLogger');

/** Probes hit these every few seconds: a completion log line each would drown everything else. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Structured JSON logs through nestjs-pino: every request gets an id (`x-request-id` honoured or
 * generated, echoed back) and one completion line; logs written while handling a request carry
 * `reqId`. Use Nest's `Logger` (`new Logger(MyService.name)`) or inject `PinoLogger`.
 */
@Global()
@Module({})
export class LoggingModule {
  static forRoot(rootLogger: Logger): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger: rootLogger,
            genReqId: assignRequestId,
            quietReqLogger: true,
            customAttributeKeys: { reqId: 'reqId' },
            autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has((req.url ?? '').split('?')[0] ?? '') },
            customLogLevel: (_req, res, error) =>
              error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
            serializers: {
              req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown> }) => ({
                id: req.id,
                method: req.method,
                url: req.url,
                userAgent: req.headers['user-agent'],
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
          },
        }),
      ],
      providers: [{ provide: ROOT_LOGGER, useValue: rootLogger }, AppLogger],
      exports: [ROOT_LOGGER, AppLogger],
    };
  }
}
