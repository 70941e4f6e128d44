import { describe, expect, it } from 'vitest';
import {
  DEMO_HOURS,
  defaultReleases,
  planReplay,
  SHIPPED_TRAFFIC_LEVELS,
  trafficTarget,
  type DemoProfileRef,
} from '../../../src/domain/demo/replay-plan';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The shipped set as demo/README.md describes it: six windows per service, versions by window. */
const VERSIONS: Record<string, readonly string[]> = {
  checkout: ['1.14.0', '1.14.0', '1.14.0', '1.15.0', '1.15.0', '1.15.0'],
  'payments-api': Array(6).fill('2.3.1'),
  ledger: Array(6).fill('0.9.4'),
  recommendations: ['3.1.0', '3.1.0', '3.2.0', '3.2.0', '3.2.0', '3.2.0'],
  'storefront-web': ['5.0.2', '5.0.2', '5.0.2', '5.0.2', '5.0.3', '5.0.3'],
  search: Array(6).fill('0.1.0'),
};
const SHIPPED: DemoProfileRef[] = Object.entries(VERSIONS).flatMap(([service, versions]) =>
  versions.map((version, i) => ({ key: `${service}/${i}`, service, traffic: SHIPPED_TRAFFIC_LEVELS[i]!, version })),
);
const byKey = new Map(SHIPPED.map((p) => [p.key, p]));

describe('the demo replay plan', () => {
  // Friday 2026-12-04 21:00 UTC, the end of the last complete window of a start at 21:25.
  const end = new Date(Date.UTC(2026, 11, 4, 21));
  const releases = defaultReleases(end);
  const plan = planReplay(Object.freeze([...SHIPPED]), { end, hours: DEMO_HOURS, releases });

  it('covers 28 days of hourly windows for every service, ending at the last complete window', () => {
    expect(plan).toHaveLength(28 * 24 * 6);
    const starts = [...new Set(plan.map((p) => p.start.getTime()))];
    expect(starts).toEqual(Array.from({ length: 28 * 24 }, (_, i) => end.getTime() - 28 * DAY + i * HOUR));
    expect(plan.every((p) => p.end.getTime() - p.start.getTime() === HOUR)).toBe(true);
    expect(planReplay(SHIPPED, { end, hours: DEMO_HOURS, releases })).toEqual(plan); // reproducible
  });

  it('runs the old version before each release and the new one after, releases in the last two weeks', () => {
    expect(releases.map((r) => [r.service, r.version, r.at.toISOString()])).toEqual([
      ['checkout', '1.15.0', '2026-12-03T10:00:00.000Z'], // 10:00 of the last complete UTC day
      ['recommendations', '3.2.0', '2026-11-30T21:00:00.000Z'],
      ['storefront-web', '5.0.3', '2026-11-20T21:00:00.000Z'],
    ]);
    for (const release of releases) {
      const windows = plan.filter((p) => p.service === release.service);
      const before = windows.filter((p) => p.start < release.at).map((p) => byKey.get(p.key)!.version);
      const after = windows.filter((p) => p.start >= release.at).map((p) => byKey.get(p.key)!.version);
      expect(before.length).toBeGreaterThan(0);
      expect(before.every((v) => v !== release.version)).toBe(true);
      expect(after.every((v) => v === release.version)).toBe(true);
    }
  });

  it('follows the traffic of the hour: busier afternoons than nights, quieter weekends', () => {
    expect(trafficTarget(new Date(Date.UTC(2026, 11, 2, 15)))).toBeCloseTo(1.3);
    expect(trafficTarget(new Date(Date.UTC(2026, 11, 2, 3)))).toBeCloseTo(0.7);
    expect(trafficTarget(new Date(Date.UTC(2026, 11, 5, 15)))).toBeCloseTo(1.04); // Saturday
    const mean = (filter: (at: Date) => boolean) => {
      const levels = plan
        .filter((p) => p.service === 'ledger' && filter(p.start))
        .map((p) => byKey.get(p.key)!.traffic);
      return levels.reduce((a, b) => a + b, 0) / levels.length;
    };
    const weekend = (d: Date) => d.getUTCDay() === 0 || d.getUTCDay() === 6;
    const afternoons = mean((d) => !weekend(d) && d.getUTCHours() >= 12 && d.getUTCHours() < 18);
    const nights = mean((d) => !weekend(d) && d.getUTCHours() < 6);
    expect(afternoons).toBeGreaterThan(1.15);
    expect(nights).toBeLessThan(0.9);
    expect(mean(weekend)).toBeLessThan(mean((d) => !weekend(d)) - 0.1);
    // Not the same week four times: the hour-by-hour picks of two consecutive weeks differ somewhere.
    const week = (n: number) =>
      plan
        .filter((p) => p.service === 'ledger')
        .slice(n * 168, (n + 1) * 168)
        .map((p) => p.key);
    expect(week(1)).not.toEqual(week(2));
  });

  it('refuses an end that is not a whole hour', () => {
    expect(() => planReplay(SHIPPED, { end: new Date(end.getTime() + 1), hours: 1, releases: [] })).toThrow(
      /whole hour/,
    );
  });
});
