import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { SourceLogger } from '../../src/sources/profile-source';
import { sourceSettingSchema, type SourceSetting } from '../../src/sources/source-settings';

const FIXTURES = join(__dirname, '..', 'fixtures', 'profiles');

/** Real profiles from test/fixtures/profiles (see its SOURCES.tsv), with the totals `go tool pprof` gives. */
export const FIXTURE = {
  /** Go CPU profile (pgo devirtualize test), gzipped; cpu/nanoseconds total 7390000000. */
  goDevirt: { path: 'golang-go/devirt.pprof', cpuTotal: 7_390_000_000n },
  /** Go CPU profile (pgo inline test), gzipped; cpu/nanoseconds total 1300000000. */
  goInlineHot: { path: 'golang-go/inline_hot.pprof', cpuTotal: 1_300_000_000n },
  /** Parca query test data, gzipped; cpu/nanoseconds total 480000000. */
  parcaProfile1: { path: 'parca/profile1.pb.gz', cpuTotal: 480_000_000n },
  /** Pyroscope process_cpu profiles converted from real JFR recordings, gzipped. */
  kafkaCpu0: {
    path: 'grafana-pyroscope/cortex-dev-01__kafka-0__cpu__0.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz',
    cpuTotal: 4_780_000_000n,
  },
  kafkaCpu1: {
    path: 'grafana-pyroscope/cortex-dev-01__kafka-0__cpu__1.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz',
    cpuTotal: 6_130_000_000n,
  },
  /**
   * A real Node.js profile (@datadog/pprof time profiler with collectCpuTime, as @pyroscope/nodejs sends it): sample
   * types samples/count, wall/nanoseconds, cpu/nanoseconds; go tool pprof -sample_index=cpu total 2066285528 ns.
   */
  nodeWallCpu: { path: '../trees/node-a.pb.gz', cpuTotal: 2_066_285_528n },
} as const;

/** The fixture's bytes as stored (gzipped). */
export function fixtureBytes(fixture: { readonly path: string }): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, fixture.path)));
}

/** The fixture's pprof without gzip, as Pyroscope serializes a profile. */
export function fixturePprof(fixture: { readonly path: string }): Uint8Array {
  return new Uint8Array(gunzipSync(fixtureBytes(fixture)));
}

/** Settings for one source through the real schema, so defaults apply as in production. */
export function sourceSettings<K extends SourceSetting['kind']>(
  input: { kind: K } & Record<string, unknown>,
): Extract<SourceSetting, { kind: K }> {
  return sourceSettingSchema.parse(input) as Extract<SourceSetting, { kind: K }>;
}

/** A logger that keeps every line for assertions. */
export class RecordingLogger implements SourceLogger {
  readonly lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  debug(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'debug', fields, message });
  }
  info(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'info', fields, message });
  }
  warn(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'warn', fields, message });
  }
  error(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'error', fields, message });
  }
}

export const HOUR_MS = 3_600_000;

/** An hour-aligned UTC window of `hours` hours from an ISO start. */
export function windowOf(startIso: string, hours: number): { start: Date; end: Date } {
  const start = new Date(startIso);
  return { start, end: new Date(start.getTime() + hours * HOUR_MS) };
}

/** A signal that never aborts. */
export const NO_ABORT = new AbortController().signal;
