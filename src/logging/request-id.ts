import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Header carrying the request id in both directions. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Ids we accept from callers: short, printable, no spaces (they end up in logs and headers). */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request id for a request: the caller's `x-request-id` when it looks like an id (so a trace spans
 * the proxy, the agent and us), otherwise a new UUID. Echoed in the response header.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const candidate = Array.isArray(incoming) ? incoming[0] : incoming;
  const id = candidate !== undefined && ACCEPTABLE_ID.test(candidate) ? candidate : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}
