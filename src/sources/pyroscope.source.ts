import { joinUrl } from './endpoint-url';
import type { HttpCallSpec, SourceHttpClient } from './http-client';
import { assertValidWindow, type FetchedProfile, type ProfileSource } from './profile-source';
import { labelSelector } from './label-selector';
import { encodeSelectMergeProfileRequest } from './pyroscope-wire';
import type { PyroscopeSourceSettings } from './source-settings';
import { inclusiveEndMs, splitWindow } from './time-ranges';
import { type TimeWindow } from '../domain/time-window';

const LABEL_VALUES_PATH = 'querier.v1.QuerierService/LabelValues';
const SELECT_MERGE_PROFILE_PATH = 'querier.v1.QuerierService/SelectMergeProfile';

/** Headers of a Connect unary call; the version header is optional for Pyroscope but is what Connect clients send. */
const CONNECT_JSON = { 'content-type': 'application/json', 'connect-protocol-version': '1' } as const;
const CONNECT_PROTO = { 'content-type': 'application/proto', 'connect-protocol-version': '1' } as const;

/**
 * Grafana Pyroscope through its Connect query API (the same calls `profilecli` and Grafana make).
 *
 * - Services: `POST /querier.v1.QuerierService/LabelValues` with JSON
 *   `{"name":"service_name","matchers":["{__profile_type__=\"…\"}"],"start":ms,"end":ms}`; the answer is
 *   `{"names":[…]}`, or `{}` when there are none (protobuf JSON omits empty lists).
 * - Profile: `POST /querier.v1.QuerierService/SelectMergeProfile` with a protobuf request
 *   (`Content-Type: application/proto`); the answer is the merged profile as plain (not gzipped) pprof.
 * - Windows longer than `maxQueryLengthHours` (Pyroscope's `max_query_length`, 24 h by default) are
 *   split; each piece is queried separately and returned as its own profile.
 * - Query ends are inclusive in Pyroscope, so each piece asks for [start, end - 1 ms].
 */
export class PyroscopeSource implements ProfileSource {
  readonly kind = 'pyroscope' as const;
  readonly name: string;

  constructor(
    private readonly settings: PyroscopeSourceSettings,
    private readonly http: SourceHttpClient,
  ) {
    this.name = settings.name;
  }

  async listServices(window: TimeWindow, signal: AbortSignal): Promise<string[]> {
    assertValidWindow(window);
    const names = new Set<string>();
    for (const piece of this.pieces(window)) {
      for (const name of await this.labelValues(piece, signal)) names.add(name);
    }
    return [...names].sort();
  }

  async fetchProfiles(service: string, window: TimeWindow, signal: AbortSignal): Promise<FetchedProfile[]> {
    assertValidWindow(window);
    const profiles: FetchedProfile[] = [];
    for (const piece of this.pieces(window)) {
      const profile = await this.selectMergeProfile(service, piece, signal);
      if (profile !== null) profiles.push(profile);
    }
    return profiles;
  }

  private pieces(window: TimeWindow): TimeWindow[] {
    return splitWindow(window, this.settings.maxQueryLengthHours * 3_600_000);
  }

  private async labelValues(piece: TimeWindow, signal: AbortSignal): Promise<string[]> {
    const body = JSON.stringify({
      name: this.settings.serviceLabel,
      matchers: [labelSelector('__profile_type__', this.settings.profileTypeId)],
      start: piece.start.getTime(),
      end: inclusiveEndMs(piece),
    });
    const result = await this.http.call(this.post(LABEL_VALUES_PATH, CONNECT_JSON, body), signal);
    return parseLabelValues(result.bytes, this.name);
  }

  private async selectMergeProfile(service: string, piece: TimeWindow, signal: AbortSignal): Promise<FetchedProfile | null> {
    const body = encodeSelectMergeProfileRequest({
      profileTypeId: this.settings.profileTypeId,
      labelSelector: labelSelector(this.settings.serviceLabel, service),
      startMs: piece.start.getTime(),
      endMs: inclusiveEndMs(piece),
    });
    const spec = this.post(SELECT_MERGE_PROFILE_PATH, CONNECT_PROTO, body);
    const result = await this.http.call(spec, signal);
    assertProtoAnswer(result.contentType, spec.url, this.name);
    // An empty google.v1.Profile encodes to zero bytes: no data for this service in the piece.
    if (result.bytes.byteLength === 0) return null;
    return {
      bytes: result.bytes,
      profileType: this.settings.profileTypeId,
      seriesLabels: { [this.settings.serviceLabel]: service },
      contentType: result.contentType,
      range: piece,
      origin: spec.url,
    };
  }

  private post(path: string, headers: Readonly<Record<string, string>>, body: Uint8Array | string): HttpCallSpec {
    return { method: 'POST', url: joinUrl(this.settings.url, path), headers, body };
  }
}

/** Reads a `types.v1.LabelValuesResponse` in protobuf JSON. */
function parseLabelValues(bytes: Uint8Array, sourceName: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`${sourceName}: LabelValues answer is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${sourceName}: LabelValues answer is not a JSON object`);
  const names = (parsed as { names?: unknown }).names ?? [];
  if (!Array.isArray(names) || !names.every((name): name is string => typeof name === 'string')) {
    throw new Error(`${sourceName}: LabelValues answer field "names" is not a list of strings`);
  }
  return names;
}

/** A proxy answering 200 with an HTML login page must not be stored as a profile. */
function assertProtoAnswer(contentType: string | undefined, url: string, sourceName: string): void {
  if (contentType === undefined || !contentType.startsWith('application/proto')) {
    throw new Error(`${sourceName}: ${url} answered with Content-Type ${contentType ?? '(none)'}, expected application/proto`);
  }
}
