import { joinUrl } from './endpoint-url';
import type { HttpCallSpec, SourceHttpClient } from './http-client';
import { assertValidWindow, type FetchedProfile, type ProfileSource } from './profile-source';
import { labelSelector } from './label-selector';
import { encodeSelectMergeProfileRequest } from './pyroscope-wire';
import type { PyroscopeSourceSettings } from './source-settings';
import { inclusiveEndMs, splitWindow } from './time-ranges';
import { type TimeWindow } from '../domain/time-window';
import { pprofHasSamples } from '../domain/profile';

const LABEL_VALUES_PATH = 'querier.v1.QuerierService/LabelValues';
const SELECT_MERGE_PROFILE_PATH = 'querier.v1.QuerierService/SelectMergeProfile';
const PROFILE_TYPES_PATH = 'querier.v1.QuerierService/ProfileTypes';
const DAY_MS = 86_400_000;

/** A window older than the server's `max_query_lookback`: Pyroscope would answer it empty, so it is refused. */
export class QueryLookbackError extends Error {
  override readonly name = 'QueryLookbackError';
}

/** What the Pyroscope source needs besides HTTP: the clock that `max_query_lookback` is measured from. */
export interface PyroscopeSourceDeps {
  readonly now: () => Date;
}

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
 * - Profile types: the configured `profileTypeId`, or else every type `POST /querier.v1.QuerierService/ProfileTypes`
 *   lists for the window whose samples are CPU time (`<name>:cpu:nanoseconds:<period>`): `process_cpu:cpu:…` from
 *   Go, Java, eBPF and Python agents, and `wall:cpu:…`, where Pyroscope files a pushed pprof that has any `wall`
 *   sample type (pkg/og/convert/pprof/profile.go `metricName`), which is where Node.js CPU time lives. That is what
 *   `/ingest` bills of the same profiles: their `cpu/nanoseconds` samples.
 * - No data is a profile without samples, told by content: Pyroscope merges nothing into a 6-byte placeholder with one
 *   empty sample type (pkg/pprof/merge.go `ProfileMerge.Profile`), and answers a range past its lookback with an
 *   empty profile (pkg/frontend/frontend_select_merge_profile.go).
 * - `max_query_lookback` (7 days by default, pkg/validation/limits.go): Pyroscope silently answers older ranges empty
 *   and clips a range that starts before it (pkg/validation/validate.go `ValidateRangeRequest`), so a backfill past it
 *   would bill zero with no error; a window starting before now minus `maxQueryLookbackDays` is refused with a
 *   `QueryLookbackError` instead.
 */
export class PyroscopeSource implements ProfileSource {
  readonly kind = 'pyroscope' as const;
  readonly name: string;

  constructor(
    private readonly settings: PyroscopeSourceSettings,
    private readonly http: SourceHttpClient,
    private readonly deps: PyroscopeSourceDeps = { now: () => new Date() },
  ) {
    this.name = settings.name;
  }

  async listServices(window: TimeWindow, signal: AbortSignal): Promise<string[]> {
    this.checkWindow(window);
    const names = new Set<string>();
    for (const piece of this.pieces(window)) {
      for (const type of await this.profileTypes(piece, signal)) {
        for (const name of await this.labelValues(type, piece, signal)) names.add(name);
      }
    }
    return [...names].sort();
  }

  async fetchProfiles(service: string, window: TimeWindow, signal: AbortSignal): Promise<FetchedProfile[]> {
    this.checkWindow(window);
    const profiles: FetchedProfile[] = [];
    for (const piece of this.pieces(window)) {
      for (const type of await this.profileTypes(piece, signal)) {
        const profile = await this.selectMergeProfile(type, service, piece, signal);
        if (profile !== null) profiles.push(profile);
      }
    }
    return profiles;
  }

  private checkWindow(window: TimeWindow): void {
    assertValidWindow(window);
    const days = this.settings.maxQueryLookbackDays;
    if (days === 0) return;
    const oldest = this.deps.now().getTime() - days * DAY_MS;
    if (window.start.getTime() < oldest) {
      throw new QueryLookbackError(
        `${this.name}: window ${window.start.toISOString()}..${window.end.toISOString()} starts before the server's max_query_lookback ` +
          `(${days} d, so nothing before ${new Date(oldest).toISOString()}): Pyroscope would answer it empty or clipped, and it would bill zero. ` +
          `Pull it from a Pyroscope that keeps that data with a larger max_query_lookback, and set maxQueryLookbackDays of source ${this.name} to match.`,
      );
    }
  }

  /** The configured profile type, or the CPU-bearing types the server has in the piece. */
  private async profileTypes(piece: TimeWindow, signal: AbortSignal): Promise<string[]> {
    if (this.settings.profileTypeId !== undefined) return [this.settings.profileTypeId];
    const body = JSON.stringify({ start: piece.start.getTime(), end: inclusiveEndMs(piece) });
    const result = await this.http.call(this.post(PROFILE_TYPES_PATH, CONNECT_JSON, body), signal);
    return parseProfileTypes(result.bytes, this.name).filter(isCpuProfileType).sort();
  }

  private pieces(window: TimeWindow): TimeWindow[] {
    return splitWindow(window, this.settings.maxQueryLengthHours * 3_600_000);
  }

  private async labelValues(profileTypeId: string, piece: TimeWindow, signal: AbortSignal): Promise<string[]> {
    const body = JSON.stringify({
      name: this.settings.serviceLabel,
      matchers: [labelSelector('__profile_type__', profileTypeId)],
      start: piece.start.getTime(),
      end: inclusiveEndMs(piece),
    });
    const result = await this.http.call(this.post(LABEL_VALUES_PATH, CONNECT_JSON, body), signal);
    return parseLabelValues(result.bytes, this.name);
  }

  private async selectMergeProfile(
    profileTypeId: string,
    service: string,
    piece: TimeWindow,
    signal: AbortSignal,
  ): Promise<FetchedProfile | null> {
    const body = encodeSelectMergeProfileRequest({
      profileTypeId,
      labelSelector: labelSelector(this.settings.serviceLabel, service),
      startMs: piece.start.getTime(),
      endMs: inclusiveEndMs(piece),
    });
    const spec = this.post(SELECT_MERGE_PROFILE_PATH, CONNECT_PROTO, body);
    const result = await this.http.call(spec, signal);
    assertProtoAnswer(result.contentType, spec.url, this.name);
    // No data is a profile without samples (the merge placeholder, or an empty profile past the lookback).
    if (!pprofHasSamples(result.bytes)) return null;
    return {
      bytes: result.bytes,
      profileType: profileTypeId,
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
  if (typeof parsed !== 'object' || parsed === null)
    throw new Error(`${sourceName}: LabelValues answer is not a JSON object`);
  const names = (parsed as { names?: unknown }).names ?? [];
  if (!Array.isArray(names) || !names.every((name): name is string => typeof name === 'string')) {
    throw new Error(`${sourceName}: LabelValues answer field "names" is not a list of strings`);
  }
  return names;
}

/** The IDs of a `querier.v1.ProfileTypesResponse` in protobuf JSON (`{}` when there are none). */
function parseProfileTypes(bytes: Uint8Array, sourceName: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`${sourceName}: ProfileTypes answer is not JSON`);
  }
  const types = (parsed as { profileTypes?: unknown } | null)?.profileTypes ?? [];
  if (
    !Array.isArray(types) ||
    !types.every(
      (t): t is { ID: string } => typeof t === 'object' && t !== null && typeof (t as { ID?: unknown }).ID === 'string',
    )
  ) {
    throw new Error(
      `${sourceName}: ProfileTypes answer field "profileTypes" is not a list of profile types with an ID`,
    );
  }
  return types.map((t) => t.ID);
}

/** `<name>:cpu:nanoseconds:<period type>:<period unit>`: samples that are CPU time in nanoseconds. */
export function isCpuProfileType(id: string): boolean {
  const parts = id.split(':');
  return parts.length === 5 && parts[1] === 'cpu' && parts[2] === 'nanoseconds';
}

/** A proxy answering 200 with an HTML login page must not be stored as a profile. */
function assertProtoAnswer(contentType: string | undefined, url: string, sourceName: string): void {
  if (contentType === undefined || !contentType.startsWith('application/proto')) {
    throw new Error(
      `${sourceName}: ${url} answered with Content-Type ${contentType ?? '(none)'}, expected application/proto`,
    );
  }
}
