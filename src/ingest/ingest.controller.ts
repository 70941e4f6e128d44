import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { ShieldedRequest } from './ingest-body.shield';
import { IngestService } from './ingest.service';

/**
 * Pyroscope's legacy push API, so existing agents can point `serverAddress` at flamebill. The body is streamed by
 * the service (under a size cap), not parsed by Nest, and the response is written by the service too.
 */
@Controller()
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  @Post('ingest')
  @HttpCode(200)
  handle(@Req() req: ShieldedRequest, @Res() res: ServerResponse): Promise<void> {
    return this.ingest.handle(req, res);
  }
}
