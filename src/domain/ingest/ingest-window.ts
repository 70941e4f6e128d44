import { type TimeWindow } from '../time-window';
/**
 * The aligned UTC window that a profile starting at `startMs` belongs to: windows are `windowSeconds` long
 * and aligned to the Unix epoch (so hourly windows start on the hour, daily ones at UTC midnight).
 *
 * A profile is assigned whole to the window of its start, never split: agents flush every 10-60 s, so a profile
 * that crosses a window boundary moves at most one flush of CPU time across that boundary, while splitting would
 * need per-sample timestamps that most profiles lack (a proportional split would invent them and make every
 * stored fold fractional). Pyroscope itself stamps a pushed profile with its start time.
 *
 * @param windowSeconds must divide 86400 (checked by the settings schema), so windows tile every UTC day.
 */
export function windowOf(startMs: number, windowSeconds: number): TimeWindow {
  const size = windowSeconds * 1000;
  const start = Math.floor(startMs / size) * size;
  return { start: new Date(start), end: new Date(start + size) };
}
