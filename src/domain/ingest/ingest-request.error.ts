/**
 * A push request whose metadata (query parameters or headers) is wrong: the HTTP layer answers 400.
 * `field` names the query parameter (`name`, `from`, `until`, `sampleRate`, `format`, ...) so the message
 * tells the agent's operator exactly what to fix.
 */
export class IngestRequestError extends Error {
  readonly field: string;

  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.name = 'IngestRequestError';
    this.field = field;
  }
}
