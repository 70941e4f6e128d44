import { joinUrl } from './endpoint-url';
import type { SourceHttpClient } from './http-client';
import { assertValidWindow, type FetchedProfile, type ProfileSource } from './profile-source';
import { labelSelector } from './label-selector';
import type { ParcaSourceSettings } from './source-settings';
import { inclusiveEndMs } from './time-ranges';
import { type TimeWindow } from '../domain/time-window';

/**
 * Parca through the REST gateway it serves under `/api` (grpc-gateway over
 * `parca.query.v1alpha1.QueryService`, default port 7070):
 *
 * - Services: `GET /api/profiles/labels/{label}/values?start=…&end=…` (RFC 3339 timestamps) answers
 *   `{"labelValues":[…],"warnings":[…]}`.
 * - Profile: `GET /api/profiles/query?mode=MODE_MERGE&reportType=REPORT_TYPE_PPROF&merge.query=…&merge.start=…&merge.end=…`
 *   answers `{"pprof":"<base64>", "total":"0", "filtered":"0"}`; the decoded bytes are a gzipped pprof.
 * - Parca's merge filter is `timestamp >= start AND timestamp <= end` (ms), so each window asks for
 *   [start, end - 1 ms]. Parca has no query length limit, so windows are not split.
 */
export class ParcaSource implements ProfileSource {
  readonly kind = 'parca' as const;
  readonly name: string;

  constructor(
    private readonly settings: ParcaSourceSettings,
    private readonly http: SourceHttpClient,
  ) {
    this.name = settings.name;
  }

  async listServices(window: TimeWindow, signal: AbortSignal): Promise<string[]> {
    assertValidWindow(window);
    const path = `api/profiles/labels/${encodeURIComponent(this.settings.serviceLabel)}/values`;
    const url = joinUrl(this.settings.url, path, rangeQuery('', window));
    const result = await this.http.call({ method: 'GET', url, headers: { accept: 'application/json' } }, signal);
    const values = readJsonField(result.bytes, 'labelValues', this.name) ?? [];
    if (!Array.isArray(values) || !values.every((value): value is string => typeof value === 'string')) {
      throw new Error(`${this.name}: ${url}: field "labelValues" is not a list of strings`);
    }
    return [...new Set(values)].sort();
  }

  async fetchProfiles(service: string, window: TimeWindow, signal: AbortSignal): Promise<FetchedProfile[]> {
    assertValidWindow(window);
    const query = rangeQuery('merge.', window);
    query.set('mode', 'MODE_MERGE');
    query.set('reportType', 'REPORT_TYPE_PPROF');
    query.set('merge.query', `${this.settings.profileType}${labelSelector(this.settings.serviceLabel, service)}`);
    const url = joinUrl(this.settings.url, 'api/profiles/query', query);
    const result = await this.http.call({ method: 'GET', url, headers: { accept: 'application/json' } }, signal);
    const pprof = readJsonField(result.bytes, 'pprof', this.name);
    if (pprof === undefined || pprof === '') return [];
    if (typeof pprof !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(pprof)) {
      throw new Error(`${this.name}: ${url}: field "pprof" is not base64`);
    }
    return [
      {
        bytes: new Uint8Array(Buffer.from(pprof, 'base64')),
        profileType: this.settings.profileType,
        seriesLabels: { [this.settings.serviceLabel]: service },
        contentType: 'application/octet-stream',
        range: window,
        origin: url,
      },
    ];
  }
}

/** `start`/`end` query parameters (with a prefix such as `merge.`) as RFC 3339, the end inclusive. */
function rangeQuery(prefix: string, window: TimeWindow): URLSearchParams {
  return new URLSearchParams([
    [`${prefix}start`, window.start.toISOString()],
    [`${prefix}end`, new Date(inclusiveEndMs(window)).toISOString()],
  ]);
}

/** One top-level field of a JSON object answer; undefined when absent. */
function readJsonField(bytes: Uint8Array, field: string, sourceName: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`${sourceName}: answer is not JSON (looking for "${field}")`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${sourceName}: answer is not a JSON object (looking for "${field}")`);
  }
  return (parsed as Record<string, unknown>)[field];
}
