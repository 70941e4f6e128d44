import { type TimeWindow } from '../time-window';
/**
 * The aligned windows that cover [from, to): every window of `windowSeconds` (aligned to the epoch)
 * that starts at or after `from`'s window and before `to`. A partial window at either end is included
 * whole, because windows are the unit of idempotency: a backfill re-does whole windows.
 * @throws RangeError when the range is empty or longer than `maxWindows` windows.
 */
export function windowsCovering(from: Date, to: Date, windowSeconds: number, maxWindows = 100_000): TimeWindow[] {
  const size = windowSeconds * 1000;
  if (!(to.getTime() > from.getTime()))
    throw new RangeError(`--to ${to.toISOString()} must be after --from ${from.toISOString()}`);
  const first = Math.floor(from.getTime() / size) * size;
  const count = Math.ceil((to.getTime() - first) / size);
  if (count > maxWindows)
    throw new RangeError(`range covers ${count} windows, more than the ${maxWindows} allowed at once: split it`);
  return Array.from({ length: count }, (_, i) => ({
    start: new Date(first + i * size),
    end: new Date(first + (i + 1) * size),
  }));
}

/** The latest window that has fully ended at `now` (what an hourly pull fetches). */
export function lastCompleteWindow(now: Date, windowSeconds: number): TimeWindow {
  const size = windowSeconds * 1000;
  const end = Math.floor(now.getTime() / size) * size;
  return { start: new Date(end - size), end: new Date(end) };
}

/** A stable key for a window in item keys and logs, e.g. `2026-11-21T06:00:00.000Z`. */
export function windowKey(window: TimeWindow): string {
  return window.start.toISOString();
}
