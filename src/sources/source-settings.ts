import { z } from 'zod';

/**
 * The `sources` section of the settings file: a list of pull sources, each with a unique `name` and a
 * `kind`. Secrets never appear here: auth settings name the environment variables that hold them.
 *
 * ```yaml
 * sources:
 *   - name: prod
 *     kind: pyroscope
 *     url: https://pyroscope.internal:4040
 *     tenantId: payments            # sent as X-Scope-OrgID
 *     auth: { type: bearer, tokenEnv: PYROSCOPE_TOKEN }
 *   - name: demo
 *     kind: directory
 *     path: demo/profiles
 * ```
 */

/** An environment variable name, as POSIX shells accept them. */
const envVarNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as PYROSCOPE_TOKEN');

/** Basic or bearer auth; the values are read from the named environment variables at start. */
export const httpAuthSettingsSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('basic'),
    usernameEnv: envVarNameSchema,
    passwordEnv: envVarNameSchema,
  }),
  z.strictObject({
    type: z.literal('bearer'),
    tokenEnv: envVarNameSchema,
  }),
]);
export type HttpAuthSettings = z.output<typeof httpAuthSettingsSchema>;

/** Timeouts and retries of every HTTP call a source makes. */
export const httpSettingsSchema = z
  .strictObject({
    /** Per attempt, covering connect, headers and the whole body. */
    timeoutSeconds: z.number().positive().max(3600).default(30),
    /** Attempts in total (1 = no retry). Retried: 5xx, 429, timeouts, connection errors. */
    maxAttempts: z.number().int().min(1).max(10).default(4),
    /** First backoff; doubles per attempt up to `backoffMaxMs`, with jitter. */
    backoffBaseMs: z.number().int().min(0).max(60_000).default(500),
    backoffMaxMs: z.number().int().min(0).max(600_000).default(10_000),
    /** Responses larger than this (after decompression) are refused rather than buffered. */
    maxResponseBytes: z
      .number()
      .int()
      .min(1024)
      .max(2 ** 31 - 1)
      .default(256 * 1024 * 1024),
  })
  .prefault({});
export type HttpSettings = z.output<typeof httpSettingsSchema>;

const sourceNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'expected a short lowercase name such as prod-pyroscope');

const httpUrlSchema = z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
  message: 'expected an http:// or https:// URL',
});

const labelNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'expected a label name such as service_name');

/** Grafana Pyroscope (or Grafana Cloud Profiles) through its Connect query API. */
export const pyroscopeSourceSettingsSchema = z.strictObject({
  name: sourceNameSchema,
  kind: z.literal('pyroscope'),
  /** Base URL; a path prefix (e.g. a Grafana data source proxy URL) is kept. */
  url: httpUrlSchema,
  /** Sent as `X-Scope-OrgID` (multi-tenant Pyroscope). Not a secret. */
  tenantId: z.string().min(1).optional(),
  auth: httpAuthSettingsSchema.optional(),
  /**
   * One profile type to pull (e.g. `process_cpu:cpu:nanoseconds:cpu:nanoseconds`). Unset: every profile type the
   * server lists (`ProfileTypes`) whose samples are CPU time (`<name>:cpu:nanoseconds:…`), which includes Node's
   * `wall:cpu:nanoseconds:…`.
   */
  profileTypeId: z
    .string()
    .regex(/^[^:\s]+(:[^:\s]+){4}$/, 'expected <name>:<type>:<unit>:<period type>:<period unit>')
    .optional(),
  /** The label that names a service. */
  serviceLabel: labelNameSchema.default('service_name'),
  /** Pyroscope's `max_query_length` (24 h by default); longer windows are split into pieces of at most this. */
  maxQueryLengthHours: z
    .number()
    .positive()
    .max(24 * 366)
    .default(24),
  /**
   * Pyroscope's `max_query_lookback` (7 days by default; 0 = none): it answers older ranges empty, with no error, so a
   * window that starts before now minus this is refused with an error that says so.
   */
  maxQueryLookbackDays: z.number().min(0).max(3660).default(7),
  http: httpSettingsSchema,
});

/** Parca through gRPC-web on its HTTP port (`parca.query.v1alpha1.QueryService`). */
export const parcaSourceSettingsSchema = z.strictObject({
  name: sourceNameSchema,
  kind: z.literal('parca'),
  url: httpUrlSchema,
  auth: httpAuthSettingsSchema.optional(),
  /** The profile type part of a Parca query, before the label matchers. */
  profileType: z.string().min(1).default('parca_agent:samples:count:cpu:nanoseconds:delta'),
  /** The label that names a service: `job` for Parca's own scrapes; e.g. `comm` or `container` for parca-agent. */
  serviceLabel: labelNameSchema.default('job'),
  /** Largest answer message accepted; Parca sends up to 64 MiB (`grpc.MaxSendMsgSize` in its pkg/server/server.go). */
  maxMessageBytes: z
    .number()
    .int()
    .min(1024)
    .max(2 ** 31 - 1)
    .default(64 * 1024 * 1024),
  http: httpSettingsSchema,
});

/** A folder of profile files, one per service and window, e.g. synced from a bucket. */
export const directorySourceSettingsSchema = z.strictObject({
  name: sourceNameSchema,
  kind: z.literal('directory'),
  /** Folder to read; relative paths resolve against the working directory. */
  path: z.string().min(1),
  /**
   * Regular expression matched against each file's path relative to `path` (with `/` separators),
   * with named groups `service` and `start` (ISO 8601, basic or extended, or epoch s/ms/µs/ns told
   * apart by digit count). Other named groups become series labels.
   */
  pattern: z
    .string()
    .refine(isValidPattern, {
      message: 'expected a regular expression with named groups (?<service>...) and (?<start>...)',
    })
    .default('^(?<service>[^/]+)/(?<start>[^/]+?)\\.(?:pb\\.gz|pb|pprof|pprof\\.gz)$'),
  /** Length of the window each file covers. */
  windowMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(60),
  /** A file is read only once it has not been modified for this long (writers still busy are skipped). */
  minAgeSeconds: z.number().min(0).max(86_400).default(10),
  profileType: z.string().min(1).default('process_cpu:cpu:nanoseconds:cpu:nanoseconds'),
  /** Files larger than this are skipped with a warning. */
  maxFileBytes: z
    .number()
    .int()
    .min(1024)
    .max(2 ** 31 - 1)
    .default(256 * 1024 * 1024),
});

/** Go `net/http/pprof` CPU profile endpoints, scraped live. */
export const pprofHttpSourceSettingsSchema = z.strictObject({
  name: sourceNameSchema,
  kind: z.literal('pprof-http'),
  /** Profile duration; added as `?seconds=N` to targets that do not set it. */
  seconds: z.number().int().min(1).max(300).default(10),
  /** Per service, its targets: `http(s)://host:port/debug/pprof/profile` URLs. */
  services: z.record(z.string().min(1), z.array(httpUrlSchema).min(1)),
  auth: httpAuthSettingsSchema.optional(),
  profileType: z.string().min(1).default('process_cpu:cpu:nanoseconds:cpu:nanoseconds'),
  /** Scrape timeout = profile seconds + this slack; retries follow `http`. */
  timeoutSlackSeconds: z.number().min(0).max(600).default(10),
  http: httpSettingsSchema,
});

export const sourceSettingSchema = z.discriminatedUnion('kind', [
  pyroscopeSourceSettingsSchema,
  parcaSourceSettingsSchema,
  directorySourceSettingsSchema,
  pprofHttpSourceSettingsSchema,
]);

/** The `sources` section: a list of sources with unique names. */
export const sourceSettingsSchema = z
  .array(sourceSettingSchema)
  .superRefine((sources, context) => {
    const seen = new Map<string, number>();
    sources.forEach((source, index) => {
      const first = seen.get(source.name);
      if (first !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `duplicate source name "${source.name}" (also used by sources[${first}])`,
        });
      }
      seen.set(source.name, index);
    });
  })
  .default([]);

export type SourceSetting = z.output<typeof sourceSettingSchema>;
export type PyroscopeSourceSettings = z.output<typeof pyroscopeSourceSettingsSchema>;
export type ParcaSourceSettings = z.output<typeof parcaSourceSettingsSchema>;
export type DirectorySourceSettings = z.output<typeof directorySourceSettingsSchema>;
export type PprofHttpSourceSettings = z.output<typeof pprofHttpSourceSettingsSchema>;

function isValidPattern(pattern: string): boolean {
  try {
    const groups = new RegExp(pattern).source;
    return groups.includes('(?<service>') && groups.includes('(?<start>');
  } catch {
    return false;
  }
}
