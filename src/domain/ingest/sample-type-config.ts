/** Pyroscope's per-sample-type settings sent by the Go SDK in the `sample_type_config` multipart part. */
export interface SampleTypeConfigEntry {
  readonly units?: string;
  readonly aggregation?: string;
  readonly 'display-name'?: string;
  readonly sampled?: boolean;
  readonly cumulative?: boolean;
}

/** Thrown when the part is not a JSON object of objects; ingest answers 422 as Pyroscope does. */
export class SampleTypeConfigError extends Error {
  constructor(detail: string) {
    super(`sample_type_config: ${detail}`);
    this.name = 'SampleTypeConfigError';
  }
}

/**
 * Validates a `sample_type_config` part. flamebill does not need it to bill (the pprof sample types and period say
 * what the values are) but a malformed one is rejected as Pyroscope rejects it, so an agent bug shows up here too.
 */
export function parseSampleTypeConfig(bytes: Uint8Array): Readonly<Record<string, SampleTypeConfigEntry>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err: unknown) {
    throw new SampleTypeConfigError(`not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SampleTypeConfigError('expected a JSON object mapping sample type names to settings');
  }
  for (const [key, value] of Object.entries(parsed)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new SampleTypeConfigError(`entry ${JSON.stringify(key)}: expected an object`);
    }
  }
  return parsed as Record<string, SampleTypeConfigEntry>;
}
