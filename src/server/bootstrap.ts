import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { AddressInfo } from 'node:net';
import { serveOpenApi } from '../api/openapi';
import { AppModule, type AppModuleOptions } from '../app.module';
import { AppLogger } from '../logging/app-logger';

/**
 * Builds the Nest application (not yet listening). Used by `flamebill serve` and by the end-to-end
 * tests, so both run the same wiring.
 */
export async function createApp(options: AppModuleOptions): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bufferLogs: true,
    // Throw on wiring errors instead of process.abort(), so the CLI can print one line and clean up.
    abortOnError: false,
  });
  app.useLogger(app.get(AppLogger));
  app.disable('x-powered-by');
  // The finance API sets a content hash ETag itself, on closed periods only (src/api/api-response.interceptor.ts).
  app.set('etag', false);
  app.use(helmet());
  serveOpenApi(app);
  return app;
}

/** A listening application and the URL to print. */
export interface RunningServer {
  readonly app: NestExpressApplication;
  readonly url: string;
  readonly port: number;
}

/** Creates the application and listens on `settings.server` (port 0 picks a free port). */
export async function startServer(options: AppModuleOptions): Promise<RunningServer> {
  const app = await createApp(options);
  try {
    const { host, port } = options.settings.server;
    await app.listen(port, host);
    const address = app.getHttpServer().address() as AddressInfo;
    return { app, url: publicUrl(host, address.port), port: address.port };
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The application without HTTP, for CLI commands that run jobs with the same providers as the service
 * (e.g. `flamebill run JOB`).
 */
export async function createAppContext(options: AppModuleOptions): Promise<INestApplicationContext> {
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(options), {
    bufferLogs: true,
    abortOnError: false,
  });
  context.useLogger(context.get(AppLogger));
  return context;
}

/** A wildcard bind address is not a URL anyone can open: print localhost for it. */
function publicUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}
