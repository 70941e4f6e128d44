/**
 * How to read a push body, decided from the `format` parameter and the Content-Type header in Pyroscope's order
 * (`readInputRawDataFromRequest` in pkg/ingester/pyroscope/ingest_handler.go).
 */
export type IngestBodyKind =
  /** Raw pprof bytes, gzipped or not (`format=pprof`). */
  | 'pprof'
  /** multipart/form-data with a `profile` part and optional `sample_type_config` (Go SDK, Node SDK 0.4). */
  | 'multipart'
  /** Folded stacks `a;b;c 12`: Pyroscope's default ("groups"). */
  | 'folded'
  /** One stack per line, one sample each. */
  | 'lines'
  /** A speedscope JSON document. */
  | 'speedscope'
  /**
   * A JFR recording (`format=jfr`, the Pyroscope Java agent): multipart/form-data with a `jfr` part and an optional
   * `labels` part (each gzipped or not), or the recording as the whole body.
   */
  | 'jfr';

/** Formats Pyroscope accepts that flamebill does not read: answered 422 with a message naming the format. */
export type UnsupportedIngestFormat = 'trie' | 'tree';

export type IngestFormatDecision =
  { readonly kind: IngestBodyKind } | { readonly unsupported: UnsupportedIngestFormat };

/**
 * Decides the body kind. Differences from Pyroscope, on purpose:
 * - a multipart Content-Type is read as multipart even with `format=pprof` (Pyroscope would then try the
 *   whole form as pprof and fail); the Go and Node SDKs never send both, but a hand-written client might;
 * - `trie` and `tree` are refused (422) instead of parsed.
 * Any other `format` value, as in Pyroscope, falls through to folded.
 */
export function decideIngestFormat(format: string | undefined, contentType: string | undefined): IngestFormatDecision {
  const ct = (contentType ?? '').toLowerCase();
  if (format === 'trie' || ct.startsWith('binary/octet-stream+trie')) return { unsupported: 'trie' };
  if (format === 'tree' || ct.startsWith('binary/octet-stream+tree')) return { unsupported: 'tree' };
  if (format === 'jfr') return { kind: 'jfr' };
  if (ct.includes('multipart/form-data')) return { kind: 'multipart' };
  switch (format) {
    case 'lines':
      return { kind: 'lines' };
    case 'pprof':
      return { kind: 'pprof' };
    case 'speedscope':
      return { kind: 'speedscope' };
    default:
      return { kind: 'folded' };
  }
}
