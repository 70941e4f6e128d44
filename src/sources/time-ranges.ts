import { type TimeWindow } from '../domain/time-window';

/**
 * Splits [start, end) into consecutive pieces of at most `maxMs` each, the last one shorter when the
 * window is not a multiple of `maxMs`. The pieces cover the window exactly, without gaps or overlaps.
 */
export function splitWindow(window: TimeWindow, maxMs: number): TimeWindow[] {
  if (!(maxMs > 0)) throw new RangeError(`piece length must be positive, got ${maxMs}`);
  const pieces: TimeWindow[] = [];
  const end = window.end.getTime();
  for (let start = window.start.getTime(); start < end; start += maxMs) {
    pieces.push({ start: new Date(start), end: new Date(Math.min(start + maxMs, end)) });
  }
  return pieces;
}

/**
 * The last millisecond of a half-open window. Pyroscope and Parca treat a query's end as inclusive, so
 * asking for [start, end - 1 ms] keeps a profile stamped exactly at a window boundary out of the earlier
 * window: adjacent windows never count it twice.
 */
export function inclusiveEndMs(window: TimeWindow): number {
  return window.end.getTime() - 1;
}
