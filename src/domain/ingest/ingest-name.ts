import { IngestRequestError } from './ingest-request.error';

/**
 * The `name` query parameter of Pyroscope's legacy `/ingest`: `app.cpu{env=prod,region=eu}`.
 *
 * Parsed with the rules of Pyroscope's `labelset.Parse` (api/model/labelset), so that any name an agent
 * sends to Pyroscope means the same here:
 * - everything before the first `{` is the application name, trimmed; it must be non-empty and use only
 *   `[A-Za-z0-9_.\-/]`;
 * - inside the braces, `key=value` pairs separated by `,`; keys and values are trimmed; keys use only
 *   `[A-Za-z0-9_.]` (the reserved `__name__` is accepted and overrides the application name, as there);
 *   a value runs to the next `,` or `}` and may contain `=`; the last duplicate key wins;
 * - a pair not closed by `,` or `}` (e.g. `app{a=1`) is dropped, and anything after the closing `}` is ignored.
 *
 * Limits Pyroscope applies later in its distributor are applied here at once (see `NAME_LIMITS`).
 */
export interface IngestName {
  /** The application name: Pyroscope's `__name__` label, e.g. `app.cpu`. */
  readonly appName: string;
  /** The labels from the braces, in a null-prototype object, without `__name__`. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Bounds on a name, close to Pyroscope's distributor defaults, so one agent cannot blow up series labels. */
export const NAME_LIMITS = { maxLabels: 64, maxLabelNameLength: 1024, maxLabelValueLength: 2048 } as const;

const RESERVED_NAME_LABEL = '__name__';

/** Parses and validates a `name` parameter; throws `IngestRequestError` (field `name`) when it is invalid. */
export function parseIngestName(raw: string | undefined): IngestName {
  if (raw === undefined) throw new IngestRequestError('name', 'service name is required');
  const open = raw.indexOf('{');
  let appName = (open < 0 ? raw : raw.slice(0, open)).trim();
  checkServiceName(appName);
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  if (open >= 0) {
    for (const [key, value] of readPairs(raw, open + 1)) {
      if (key === RESERVED_NAME_LABEL) appName = value;
      else labels[key] = value;
    }
    // Pyroscope lets `__name__` in the braces replace the name unchecked; we check the result like any name.
    checkServiceName(appName);
  }
  checkLimits(labels);
  return { appName, labels };
}

/** Reads `key=value` pairs from `raw[start..]` up to the closing `}`; yields only pairs closed by `,` or `}`. */
function* readPairs(raw: string, start: number): Generator<[string, string]> {
  let key = '';
  let value = '';
  let inValue = false;
  for (let i = start; i < raw.length; i++) {
    const ch = raw[i]!;
    if (!inValue) {
      if (ch === '}') return;
      if (ch === '=') {
        inValue = true;
        value = '';
      } else key += ch;
      continue;
    }
    if (ch === ',' || ch === '}') {
      const name = key.trim();
      if (name !== RESERVED_NAME_LABEL) checkLabelName(name);
      yield [name, value.trim()];
      key = '';
      inValue = false;
      // Pyroscope goes back to reading keys after `}` too, so `a{x=1}y=2}` still reads y=2: mirror it.
    } else value += ch;
  }
}

function checkServiceName(name: string): void {
  if (name.length === 0) throw new IngestRequestError('name', 'service name is required');
  for (const ch of name) {
    if (!isServiceNameChar(ch)) {
      throw new IngestRequestError(
        'name',
        `invalid service name: ${name}: character is not allowed: ${JSON.stringify(ch)}`,
      );
    }
  }
}

function checkLabelName(name: string): void {
  if (name.length === 0) throw new IngestRequestError('name', 'label name is required');
  for (const ch of name) {
    if (!isLabelNameChar(ch)) {
      throw new IngestRequestError(
        'name',
        `invalid label name: ${name}: character is not allowed: ${JSON.stringify(ch)}`,
      );
    }
  }
}

function checkLimits(labels: Readonly<Record<string, string>>): void {
  const keys = Object.keys(labels);
  if (keys.length > NAME_LIMITS.maxLabels) {
    throw new IngestRequestError('name', `too many labels: ${keys.length} (at most ${NAME_LIMITS.maxLabels})`);
  }
  for (const key of keys) {
    if (key.length > NAME_LIMITS.maxLabelNameLength) {
      throw new IngestRequestError(
        'name',
        `label name longer than ${NAME_LIMITS.maxLabelNameLength} characters: ${key.slice(0, 40)}...`,
      );
    }
    if (labels[key]!.length > NAME_LIMITS.maxLabelValueLength) {
      throw new IngestRequestError(
        'name',
        `value of label ${key} longer than ${NAME_LIMITS.maxLabelValueLength} characters`,
      );
    }
  }
}

function isLabelNameChar(ch: string): boolean {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch === '_' || ch === '.';
}

function isServiceNameChar(ch: string): boolean {
  return ch === '-' || ch === '/' || isLabelNameChar(ch);
}

/**
 * The canonical text of a name: `app{a=1,b=2}` with keys sorted, like Pyroscope's `Normalized()`. Two requests
 * that differ only in label order get the same canonical name (it is part of the push digest).
 */
export function canonicalIngestName(name: IngestName): string {
  const keys = Object.keys(name.labels).sort();
  return `${name.appName}{${keys.map((k) => `${k}=${name.labels[k]!}`).join(',')}}`;
}
