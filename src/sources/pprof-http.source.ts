import { SourceBusyError, type SourceHttpClient } from './http-client';
import { assertValidWindow, type FetchedProfile, type ProfileSource, type SourceLogger } from './profile-source';
import type { PprofHttpSourceSettings } from './source-settings';
import { type TimeWindow } from '../domain/time-window';

/** What the pprof endpoint source needs from its surroundings. */
export interface PprofHttpSourceDeps {
  readonly logger: SourceLogger;
  /** The clock: a capture's range is when it actually ran. */
  readonly now: () => Date;
}

/**
 * Go `net/http/pprof` CPU profile endpoints (`GET /debug/pprof/profile?seconds=N`, answering a gzipped
 * pprof as `application/octet-stream`), configured per service as a list of targets.
 *
 * This is a live source: a fetch profiles the targets now, for N seconds, whatever window it is given,
 * and each profile's `range` is when its capture ran; the scheduler calls it during the window it wants
 * sampled. All targets of a service are scraped in parallel, each bounded by N seconds plus
 * `timeoutSlackSeconds`; a target that fails is logged and left out, and only a service whose targets
 * all fail is an error.
 *
 * A Go process runs one CPU profile at a time: while pyroscope-go or an Alloy scrape profiles it, the endpoint answers
 * 500 "Could not enable CPU profiling: cpu profiling already in use" (net/http/pprof `Profile`, src/net/http/pprof/
 * pprof.go). That target is busy, not failing: it is not retried (each retry would be a new capture, and the other
 * profiler runs for its own 10-60 s), it is logged as busy, and when every target of the service is busy the fetch
 * throws a `SourceBusyError`, which the work runner records as `busy`; the next scheduled pull captures again.
 */
export class PprofHttpSource implements ProfileSource {
  readonly kind = 'pprof-http' as const;
  readonly name: string;

  constructor(
    private readonly settings: PprofHttpSourceSettings,
    private readonly http: SourceHttpClient,
    private readonly deps: PprofHttpSourceDeps,
  ) {
    this.name = settings.name;
  }

  /** The configured services; the window does not matter for a live source. */
  async listServices(window: TimeWindow, signal: AbortSignal): Promise<string[]> {
    assertValidWindow(window);
    signal.throwIfAborted();
    return Object.keys(this.settings.services).sort();
  }

  async fetchProfiles(service: string, window: TimeWindow, signal: AbortSignal): Promise<FetchedProfile[]> {
    assertValidWindow(window);
    const targets = this.settings.services[service] ?? [];
    const outcomes = await Promise.allSettled(targets.map((target) => this.scrape(service, target, signal)));
    signal.throwIfAborted();
    const profiles: FetchedProfile[] = [];
    const failures: string[] = [];
    let busy = 0;
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') profiles.push(outcome.value);
      else {
        const message = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
        failures.push(message);
        if (outcome.reason instanceof SourceBusyError) busy++;
        const what =
          outcome.reason instanceof SourceBusyError
            ? 'pprof target busy (another CPU profile runs in it), left out until the next schedule'
            : 'pprof target failed, left out';
        this.deps.logger.warn({ source: this.name, service, target: targets[index], error: message }, what);
      }
    });
    if (targets.length > 0 && profiles.length === 0) {
      if (busy === targets.length) {
        throw new SourceBusyError(
          `${this.name}: every pprof target of "${service}" is busy with another CPU profile: ${failures.join('; ')}`,
          targets.join(' '),
        );
      }
      throw new Error(`${this.name}: every pprof target of "${service}" failed: ${failures.join('; ')}`);
    }
    return profiles;
  }

  private async scrape(service: string, target: string, signal: AbortSignal): Promise<FetchedProfile> {
    const url = withSeconds(target, this.settings.seconds);
    const seconds = Number(new URL(url).searchParams.get('seconds'));
    const started = this.deps.now();
    const result = await this.http.call(
      { method: 'GET', url, timeoutMs: (seconds + this.settings.timeoutSlackSeconds) * 1000, busy: isCpuProfilerBusy },
      signal,
    );
    return {
      bytes: result.bytes,
      profileType: this.settings.profileType,
      seriesLabels: { service_name: service, instance: new URL(url).host },
      contentType: result.contentType,
      range: { start: started, end: this.deps.now() },
      origin: url,
    };
  }
}

/** The target with `seconds=N` added when it does not set a positive integer itself. */
export function withSeconds(target: string, seconds: number): string {
  const url = new URL(target);
  if (!/^[1-9]\d*$/.test(url.searchParams.get('seconds') ?? '')) url.searchParams.set('seconds', String(seconds));
  return url.toString();
}

/** net/http/pprof's answer when `StartCPUProfile` fails because a CPU profile already runs in the process. */
export function isCpuProfilerBusy(status: number, body: string): boolean {
  return status === 500 && body.startsWith('Could not enable CPU profiling');
}
