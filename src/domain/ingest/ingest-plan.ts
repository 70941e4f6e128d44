import { decideIngestFormat, type IngestBodyKind, type UnsupportedIngestFormat } from './ingest-format';
import { canonicalIngestName, parseIngestName, type IngestName } from './ingest-name';
import { resolveIngestSeries, type IngestSeries } from './ingest-series';
import { parseIngestRange } from './ingest-time';
import { windowOf } from './ingest-window';
import { parseSampleRate } from './sample-rate';
import { type TimeWindow } from '../time-window';

/** The query parameters of Pyroscope's legacy `/ingest` (all optional on the wire). */
export interface IngestQuery {
  readonly name?: string;
  readonly from?: string;
  readonly until?: string;
  readonly format?: string;
  readonly sampleRate?: string;
  readonly spyName?: string;
  readonly units?: string;
  readonly aggregationType?: string;
}

/** Thrown for a format Pyroscope knows and flamebill does not read; the HTTP layer answers 422. */
export class UnsupportedIngestFormatError extends Error {
  readonly format: UnsupportedIngestFormat;

  constructor(format: UnsupportedIngestFormat) {
    super(`format ${format} is not supported by flamebill; send pprof, jfr, folded, lines or speedscope`);
    this.name = 'UnsupportedIngestFormatError';
    this.format = format;
  }
}

/** Everything decided about a push before its body is read. */
export interface IngestPlan {
  readonly kind: IngestBodyKind;
  readonly name: IngestName;
  /** `canonicalIngestName(name)`, part of the push digest. */
  readonly canonicalName: string;
  readonly series: IngestSeries;
  readonly fromMs: number;
  readonly untilMs: number;
  /** The window the profile is stored in: the one containing `fromMs`. */
  readonly window: TimeWindow;
  /**
   * Hz; used only for text formats and JFR, where one sample is worth 1e9 / sampleRate ns as in Pyroscope (null for
   * pprof and multipart, whose period is in the profile).
   */
  readonly sampleRate: number | null;
  /** Pyroscope `units` (text formats: `samples` means sampler counts). */
  readonly units: string | undefined;
  readonly spyName: string | undefined;
}

/**
 * Validates a push's metadata and decides how to read it, without reading the body. Errors:
 * `IngestRequestError` (400: name, from, until, sampleRate) and `UnsupportedIngestFormatError` (422).
 * `aggregationType` is accepted and ignored: it tells Pyroscope's UI how to merge memory profiles over time,
 * which has no meaning for CPU cost.
 */
export function planIngest(
  query: IngestQuery,
  contentType: string | undefined,
  nowMs: number,
  windowSeconds: number,
): IngestPlan {
  const name = parseIngestName(query.name);
  const { fromMs, untilMs } = parseIngestRange(query.from, query.until, nowMs);
  const decision = decideIngestFormat(query.format, contentType);
  const kind = 'kind' in decision ? decision.kind : null;
  const isText = kind === 'folded' || kind === 'lines' || kind === 'speedscope';
  const series = resolveIngestSeries(name, isText ? 'from-name' : 'self-describing');
  const sampleRate = isText || kind === 'jfr' ? parseSampleRate(query.sampleRate) : null;
  if (kind === null)
    throw new UnsupportedIngestFormatError((decision as { unsupported: UnsupportedIngestFormat }).unsupported);
  return {
    kind,
    name,
    canonicalName: canonicalIngestName(name),
    series,
    fromMs,
    untilMs,
    window: windowOf(fromMs, windowSeconds),
    sampleRate,
    units: query.units,
    spyName: query.spyName,
  };
}
