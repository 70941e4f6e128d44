import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Paths whose request bodies the ingest service streams itself (a Connect JSON push would meet the JSON parser). */
const INGEST_PATHS = ['/ingest', '/pyroscope/ingest', '/push.v1.PusherService/Push'] as const;

/** Where the Content-Type of a push is kept after the shield hides it from the body parsers. */
export const INGEST_CONTENT_TYPE = Symbol('flamebill.ingestContentType');

export type ShieldedRequest = IncomingMessage & { [INGEST_CONTENT_TYPE]?: string };

/**
 * Keeps Nest's default body parsers (JSON and urlencoded, registered for every route) away from `POST /ingest`.
 * Pyroscope's own examples push folded text with `curl --data-binary`, which sends
 * `application/x-www-form-urlencoded`: the urlencoded parser would consume (and mangle, and cap at 100 kB) the body
 * before the controller could stream it. Nest registers those parsers in `app.init()`, after providers are built, so
 * this provider installs, at construction, an Express middleware that runs first: it moves the Content-Type of
 * ingest requests aside, so no parser matches, and the ingest controller reads it from the request.
 * Without an HTTP adapter (an application context for CLI jobs) it does nothing.
 */
@Injectable()
export class IngestBodyShield {
  constructor(adapterHost: HttpAdapterHost) {
    for (const path of INGEST_PATHS) adapterHost.httpAdapter?.use(path, shieldIngestBody);
  }
}

/** Express middleware: hides the Content-Type of POST requests under /ingest from later body parsers. */
export function shieldIngestBody(req: ShieldedRequest, _res: ServerResponse, next: () => void): void {
  if (req.method === 'POST') {
    req[INGEST_CONTENT_TYPE] = req.headers['content-type'];
    delete req.headers['content-type'];
  }
  next();
}

/** The Content-Type a push was sent with, whether or not the shield ran. */
export function ingestContentType(req: ShieldedRequest): string | undefined {
  return INGEST_CONTENT_TYPE in req ? req[INGEST_CONTENT_TYPE] : req.headers['content-type'];
}
