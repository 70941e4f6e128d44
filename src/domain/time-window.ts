/** A half-open UTC time range [start, end): a pull, push or attribution window, or any other period. */
export interface TimeWindow {
  readonly start: Date;
  readonly end: Date;
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function isoDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}
