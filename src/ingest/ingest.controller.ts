import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { ShieldedRequest } from './ingest-body.shield';
import { IngestService } from './ingest.service';

/**
 * Pyroscope's push APIs (legacy `/ingest` and Connect `Push`), so existing agents can point `serverAddress` at flamebill. The body is streamed by
 * the service (under a size cap), not parsed by Nest, and the response is written by the service too.
 */
@Controller()
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  /** `/pyroscope/ingest` is the same endpoint under the prefix Pyroscope also serves it at (pkg/api/api.go). */
  @Post(['ingest', 'pyroscope/ingest'])
  @HttpCode(200)
  handle(@Req() req: ShieldedRequest, @Res() res: ServerResponse): Promise<void> {
    return this.ingest.handle(req, res);
  }

  /** Pyroscope's Connect push API (api/push/v1/push.proto): Grafana Alloy, pyroscope-rs >= 1.0, the Python SDK. */
  @Post('push.v1.PusherService/Push')
  @HttpCode(200)
  connectPush(@Req() req: ShieldedRequest, @Res() res: ServerResponse): Promise<void> {
    return this.ingest.handleConnectPush(req, res);
  }
}
