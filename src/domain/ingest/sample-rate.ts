import { IngestRequestError } from './ingest-request.error';

/** Pyroscope's default `sampleRate` (Hz) when a text-format push does not say. */
export const DEFAULT_SAMPLE_RATE_HZ = 100;

/**
 * The `sampleRate` of a text-format push (folded, lines, speedscope), where it turns sample counts into time.
 * Absent: 100 Hz, as in Pyroscope. Unlike Pyroscope, which logs a bad value and uses 100 Hz, a value that is not
 * an integer in [1, 1e9] is a 400: guessing would misprice the profile silently.
 * For pprof the parameter is ignored (the Node agent even sends a wrong one): the profile's period is the truth.
 */
export function parseSampleRate(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_SAMPLE_RATE_HZ;
  const text = raw.trim();
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1 || value > 1e9) {
    throw new IngestRequestError(
      'sampleRate',
      `expected an integer number of samples per second in [1, 1000000000], got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  }
  return value;
}
