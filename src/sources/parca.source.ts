import { joinUrl } from './endpoint-url';
import type { SourceHttpClient } from './http-client';
import { assertValidWindow, type FetchedProfile, type ProfileSource } from './profile-source';
import { labelSelector } from './label-selector';
import {
  decodeQueryResponsePprof,
  decodeValuesResponse,
  encodeMergeQueryRequest,
  encodeValuesRequest,
  grpcWebFrame,
  readGrpcWebUnary,
} from './parca-wire';
import type { ParcaSourceSettings } from './source-settings';
import { inclusiveEndMs } from './time-ranges';
import { pprofHasSamples } from '../domain/profile';
import { type TimeWindow } from '../domain/time-window';

const QUERY_SERVICE = 'parca.query.v1alpha1.QueryService';

/** Headers of a gRPC-web unary call in binary protobuf (what @connectrpc/connect-web's gRPC-web transport sends). */
const GRPC_WEB = {
  'content-type': 'application/grpc-web+proto',
  'x-grpc-web': '1',
  accept: 'application/grpc-web+proto',
} as const;

/**
 * Parca through gRPC-web on its HTTP port (7070), the API its own UI uses: pkg/server/server.go sends every request
 * whose Content-Type starts with `application/grpc` to `grpcweb.WrapServer` around the gRPC server, whose send limit is
 * 64 MiB (`grpc.MaxSendMsgSize(debuginfo.MaxMsgSize)`). Not the REST gateway under `/api`: it calls the same gRPC
 * server as a client with grpc-go's default 4 MiB receive limit, so a merged profile over 4 MiB fails there (as HTTP
 * 429, RESOURCE_EXHAUSTED), which no retry fixes. gRPC-web rides on plain HTTP/1.1 POSTs, so the calls go through the
 * same HTTP client as every source (timeouts, retries of 5xx, auth); the messages are hand-encoded (parca-wire.ts).
 *
 * - Services: `Values { label_name, start, end, profile_type }`: with `profile_type`, only services that have
 *   profiles of that type (pkg/query/columnquery.go `Values`), so services without CPU data are not listed; its bounds
 *   are strict (`time_nanos > start AND time_nanos < end`, pkg/parcacol/querier.go), hence start - 1 ns.
 * - Profile: `Query { mode: MODE_MERGE, merge { query, start, end }, report_type: REPORT_TYPE_PPROF }` answers a
 *   gzipped pprof in `pprof`; a merge of nothing is still a gzipped profile with sample types and no sample, which is
 *   no data (told by content).
 * - The merge filter is `timestamp >= start AND timestamp <= end` (ms), so each window asks for [start, end - 1 ms].
 * - Messages over `maxMessageBytes` (default 64 MiB, Parca's own send limit) are refused with an error naming it.
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
    const request = encodeValuesRequest({
      labelName: this.settings.serviceLabel,
      // `Values` bounds are exclusive: 1 ns before the window, and the window's end, list exactly [start, end).
      startNs: BigInt(window.start.getTime()) * 1_000_000n - 1n,
      endNs: BigInt(window.end.getTime()) * 1_000_000n,
      profileType: this.settings.profileType,
    });
    const values = decodeValuesResponse(await this.call('Values', request, signal));
    return [...new Set(values)].sort();
  }

  async fetchProfiles(service: string, window: TimeWindow, signal: AbortSignal): Promise<FetchedProfile[]> {
    assertValidWindow(window);
    const query = `${this.settings.profileType}${labelSelector(this.settings.serviceLabel, service)}`;
    const request = encodeMergeQueryRequest({ query, startMs: window.start.getTime(), endMs: inclusiveEndMs(window) });
    const pprof = decodeQueryResponsePprof(await this.call('Query', request, signal));
    if (pprof === null || pprof.length === 0 || !pprofHasSamples(pprof)) return [];
    return [
      {
        bytes: pprof,
        profileType: this.settings.profileType,
        seriesLabels: { [this.settings.serviceLabel]: service },
        contentType: 'application/octet-stream',
        range: window,
        origin: this.url('Query'),
      },
    ];
  }

  private url(method: string): string {
    return joinUrl(this.settings.url, `${QUERY_SERVICE}/${method}`);
  }

  private async call(method: string, message: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    const url = this.url(method);
    const result = await this.http.call(
      { method: 'POST', url, headers: GRPC_WEB, body: grpcWebFrame(message) },
      signal,
    );
    if (!(result.contentType ?? '').startsWith('application/grpc-web')) {
      throw new Error(
        `${this.name}: ${url} answered with Content-Type ${result.contentType ?? '(none)'}, expected application/grpc-web+proto (is this Parca's HTTP port?)`,
      );
    }
    try {
      return readGrpcWebUnary(result.bytes, result.headers, this.settings.maxMessageBytes);
    } catch (err: unknown) {
      throw new Error(`${this.name}: ${method} at ${url}: ${(err as Error).message}`, { cause: err });
    }
  }
}
