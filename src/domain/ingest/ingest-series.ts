import { IngestRequestError } from './ingest-request.error';
import type { IngestName } from './ingest-name';

/**
 * Profile-type suffixes Pyroscope's legacy ingestion recognizes at the end of an application name
 * (`app.cpu`, `app.inuse_space`, ...): the list of `convertMetadata` in pkg/ingester/pyroscope.
 */
export const KNOWN_NAME_SUFFIXES: ReadonlySet<string> = new Set([
  'cpu',
  'itimer',
  'wall',
  'inuse_objects',
  'inuse_space',
  'alloc_objects',
  'alloc_space',
  'goroutines',
  'mutex_count',
  'mutex_duration',
  'block_count',
  'block_duration',
  'alloc_in_new_tlab_objects',
  'alloc_in_new_tlab_bytes',
  'alloc_outside_tlab_objects',
  'alloc_outside_tlab_bytes',
  'lock_count',
  'lock_duration',
  'live',
  'exceptions',
  'seconds',
  'nanoseconds',
  'microseconds',
  'milliseconds',
  'bytes',
]);

/** Which series a push belongs to: the service it is billed to and the labels kept with it. */
export interface IngestSeries {
  /** Service name: the `service_name` label when the name carries one, else the application name without its suffix. */
  readonly service: string;
  /** The profile-type suffix of the name (`cpu`, `wall`, ...); `null` when the name has none we know. */
  readonly nameSuffix: string | null;
  /** The name's labels except Pyroscope-private ones (`__*`), plus `app_name` when `service_name` overrode it. */
  readonly seriesLabels: Readonly<Record<string, string>>;
}

/**
 * Whether the body itself says what it measures (pprof: sample types) or only the name does (folded, lines,
 * speedscope: the suffix, as in Pyroscope, where a name without a dot means `cpu`).
 */
export type NameTyping = 'self-describing' | 'from-name';

/**
 * Derives service and series labels from a parsed name, following Pyroscope:
 * - the last dot-separated part of the application name is the profile type when it is one Pyroscope knows;
 *   for text formats a name without a dot is `cpu`, and an unknown last part is an error (400), as there;
 *   for pprof an unknown last part stays in the service name (`my.app` is the service `my.app`);
 *   we also strip a known suffix for pprof (Pyroscope keeps it), so `app` and `app.cpu` bill to one service;
 * - a `service_name` label in the braces wins over the application name, which is then kept as `app_name`
 *   (unless the braces set `app_name` too): Pyroscope's `Labels()` in pkg/og/convert/pyroscope;
 * - labels whose name starts with `__` are private to Pyroscope and dropped.
 */
export function resolveIngestSeries(name: IngestName, typing: NameTyping): IngestSeries {
  const { app, suffix } = splitSuffix(name.appName, typing);
  const seriesLabels: Record<string, string> = {};
  for (const key of Object.keys(name.labels).sort()) {
    if (!key.startsWith('__')) seriesLabels[key] = name.labels[key]!;
  }
  const labelled = seriesLabels['service_name'];
  if (labelled !== undefined && labelled !== '') {
    if (seriesLabels['app_name'] === undefined) seriesLabels['app_name'] = app;
    return { service: labelled, nameSuffix: suffix, seriesLabels };
  }
  return { service: app, nameSuffix: suffix, seriesLabels };
}

function splitSuffix(appName: string, typing: NameTyping): { app: string; suffix: string | null } {
  const dot = appName.lastIndexOf('.');
  if (dot < 0) return { app: appName, suffix: typing === 'from-name' ? 'cpu' : null };
  const last = appName.slice(dot + 1);
  if (dot === 0 && KNOWN_NAME_SUFFIXES.has(last)) throw new IngestRequestError('name', 'service name is required');
  if (KNOWN_NAME_SUFFIXES.has(last)) return { app: appName.slice(0, dot), suffix: last };
  if (typing === 'from-name') throw new IngestRequestError('name', `unknown profile type: ${last}`);
  return { app: appName, suffix: null };
}
