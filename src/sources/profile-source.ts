import { type TimeWindow } from '../domain/time-window';
/**
 * The contract every pull source implements (Pyroscope, Parca, a directory drop, Go pprof endpoints).
 *
 * A source is a thin adapter over one outside system: it lists the services that have profiles in a
 * time window and fetches their profile bytes exactly as the system serves them. It never decodes or
 * folds a profile (that is the profile engine's job), never touches the database, and never reads the
 * clock except where the protocol itself is "profile now" (Go pprof endpoints).
 */

/** A half-open UTC time range [start, end). */
/** One profile as a source delivered it. */
export interface FetchedProfile {
  /** pprof bytes, gzipped or not, exactly as received. */
  readonly bytes: Uint8Array;
  /**
   * The profile type the source asked for, in the source's own notation, e.g. Pyroscope's
   * `process_cpu:cpu:nanoseconds:cpu:nanoseconds`. Part of the idempotency key (source, service,
   * profile type, window); the sample type actually used for cost is chosen when folding.
   */
  readonly profileType: string;
  /** Labels of the series the profile belongs to, e.g. `{ service_name: 'checkout' }`. */
  readonly seriesLabels: Readonly<Record<string, string>>;
  /** The Content-Type the server sent, when there was one. */
  readonly contentType?: string;
  /**
   * The time range this profile covers. Equal to the requested window unless the source had to split
   * it (Pyroscope's 24 h query limit), stores fixed windows (directory drop), or profiles live
   * (Go pprof endpoints: the capture's own start and end).
   */
  readonly range: TimeWindow;
  /** Where the bytes came from (URL or file path), for logs and provenance. Never contains secrets. */
  readonly origin: string;
}

/** The kinds of pull source flamebill knows. */
export type SourceKind = 'pyroscope' | 'parca' | 'directory' | 'pprof-http';

/**
 * A pull source. Every call takes an AbortSignal and is bounded by the source's own timeouts, so a
 * slow or dead system fails that call within a known time and never blocks the caller's other sources.
 */
export interface ProfileSource {
  /** The name given in the settings file; unique among sources. */
  readonly name: string;
  readonly kind: SourceKind;

  /** Service names that have profiles of this source's profile type in the window, sorted, no duplicates. */
  listServices(window: TimeWindow, signal: AbortSignal): Promise<string[]>;

  /**
   * The profiles of one service in the window. Usually one; several when the source cannot hand back
   * one merged profile: a window longer than Pyroscope's query limit (one profile per piece), several
   * files in a directory window, several Go pprof targets. The caller folds each and merges the folds.
   * An empty array means the service has no data in the window.
   */
  fetchProfiles(service: string, window: TimeWindow, signal: AbortSignal): Promise<FetchedProfile[]>;
}

/**
 * The logging a source needs, shaped like pino (`logger.warn({ url }, 'message')`) so a pino logger
 * or a child of it can be passed as is. Sources never log to the console directly.
 */
export interface SourceLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** A logger that drops everything, for callers that do not care. */
export const silentSourceLogger: SourceLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Throws a clear error when a window is empty or inverted; every source checks its input with it. */
export function assertValidWindow(window: TimeWindow): void {
  const start = window.start.getTime();
  const end = window.end.getTime();
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    throw new RangeError('window start and end must be valid dates');
  }
  if (end <= start) {
    throw new RangeError(
      `window end ${window.end.toISOString()} must be after its start ${window.start.toISOString()}`,
    );
  }
}
