/**
 * The first start's demo: which of the shipped real profiles (`demo/profiles`, six hourly windows per service) stands
 * for each hourly window of a multi-week replay. Pure: the loader reads the files and stores what this plans.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Days the first start replays: four weeks, so a month view and a week-over-week change both have data. */
export const DEMO_DAYS = 28;
/** The same in hourly windows. */
export const DEMO_HOURS = DEMO_DAYS * 24;

/**
 * Traffic level each shipped window was profiled at, in window order (`DIURNAL` in demo/generate.js): the generator
 * ran each service's request loop for its base time × this level, so it is the window's traffic, as designed.
 */
export const SHIPPED_TRAFFIC_LEVELS: readonly number[] = [0.7, 0.9, 1.1, 1.3, 1.2, 1.0];

/** Weekend traffic relative to a weekday at the same hour. */
export const WEEKEND_FACTOR = 0.8;

/**
 * How far one service's traffic in one hour strays from the curve, either way: without it every week of the replay
 * would cost exactly what the one before did. Drawn from a hash of (service, hour), so a replay is reproducible.
 */
export const TRAFFIC_JITTER = 0.15;

/** One shipped profile the replay can use. */
export interface DemoProfileRef {
  /** Identifies the profile to the caller (e.g. its file); ties between equally good picks go to the smaller key. */
  readonly key: string;
  readonly service: string;
  /** Traffic level the profile was taken at (SHIPPED_TRAFFIC_LEVELS). */
  readonly traffic: number;
  /** The `version` label of its samples. */
  readonly version: string;
}

/** A service switching to `version` at `at`: its profiles of other versions before, of `version` from then on. */
export interface DemoRelease {
  readonly service: string;
  readonly version: string;
  readonly at: Date;
}

export interface ReplayOptions {
  /** End of the replay, exclusive: the end of the last complete window. Whole hours. */
  readonly end: Date;
  /** Hourly windows to plan, the last one ending at `end`. */
  readonly hours: number;
  readonly releases: readonly DemoRelease[];
}

/** One window of one service and the profile that fills it. */
export interface PlannedWindow {
  readonly start: Date;
  readonly end: Date;
  readonly service: string;
  readonly key: string;
}

/**
 * Traffic the replay aims for in the hour starting at `start` (UTC): a daily curve from 0.7 at 03:00 to 1.3 at
 * 15:00, and WEEKEND_FACTOR of that on Saturdays and Sundays.
 */
export function trafficTarget(start: Date): number {
  const hour = start.getUTCHours();
  const weekday = 1.0 + 0.3 * Math.cos((2 * Math.PI * (hour - 15)) / 24);
  const day = start.getUTCDay();
  return day === 0 || day === 6 ? weekday * WEEKEND_FACTOR : weekday;
}

/**
 * The shipped releases, placed so the default regression scan (the last complete UTC day against the 7 days before)
 * sees them: checkout 1.15.0 at 10:00 of the last complete UTC day (a morning deploy: the version rule compares it
 * with 1.14.0), recommendations 3.2.0 four days before the end (inside the baseline week: the day-over-week
 * comparison finds it), storefront-web 5.0.3 two weeks before the end (a harmless release long settled).
 */
export function defaultReleases(end: Date): DemoRelease[] {
  const lastCompleteDay = Math.floor(end.getTime() / DAY_MS) * DAY_MS - DAY_MS;
  return [
    { service: 'checkout', version: '1.15.0', at: new Date(lastCompleteDay + 10 * HOUR_MS) },
    { service: 'recommendations', version: '3.2.0', at: new Date(end.getTime() - 4 * DAY_MS) },
    { service: 'storefront-web', version: '5.0.3', at: new Date(end.getTime() - 14 * DAY_MS) },
  ];
}

/**
 * Every one of the `options.hours` hourly windows ending at `options.end`, for every service of `profiles`, with the
 * profile whose traffic level is closest to `trafficTarget` (± TRAFFIC_JITTER) among those of the version the service
 * runs then.
 * A service whose release has no profile of the other side keeps all its profiles on that side.
 * @returns windows in time order, services in name order within a window.
 */
export function planReplay(profiles: readonly DemoProfileRef[], options: ReplayOptions): PlannedWindow[] {
  if (options.end.getTime() % HOUR_MS !== 0) throw new Error('the replay must end on a whole hour');
  const byService = new Map<string, DemoProfileRef[]>();
  for (const p of [...profiles].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)))
    byService.set(p.service, [...(byService.get(p.service) ?? []), p]);
  const services = [...byService.keys()].sort();
  const releases = new Map(options.releases.map((r) => [r.service, r]));
  const first = options.end.getTime() - options.hours * HOUR_MS;
  const planned: PlannedWindow[] = [];
  for (let t = first; t < options.end.getTime(); t += HOUR_MS) {
    const start = new Date(t);
    for (const service of services) {
      const target = trafficTarget(start) * (1 + TRAFFIC_JITTER * (2 * unitHash(`${service}@${t}`) - 1));
      const candidates = versionAt(byService.get(service)!, releases.get(service), start);
      planned.push({ start, end: new Date(t + HOUR_MS), service, key: closest(candidates, target).key });
    }
  }
  return planned;
}

/** FNV-1a of `text` as a number in [0, 1): the same text always draws the same number. */
function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}

function versionAt(profiles: DemoProfileRef[], release: DemoRelease | undefined, at: Date): DemoProfileRef[] {
  if (!release) return profiles;
  const released = at.getTime() >= release.at.getTime();
  const side = profiles.filter((p) => (p.version === release.version) === released);
  return side.length > 0 ? side : profiles;
}

/** The profile nearest `target` in traffic; the first (smallest key) on ties. */
function closest(candidates: readonly DemoProfileRef[], target: number): DemoProfileRef {
  let best = candidates[0]!;
  for (const c of candidates) if (Math.abs(c.traffic - target) < Math.abs(best.traffic - target) - 1e-9) best = c;
  return best;
}
