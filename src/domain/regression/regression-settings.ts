import { z } from 'zod';

/** Trackers a ticket can go to; a routing annotation or `regressions.default` names one. */
export const TRACKERS = ['redmine', 'github', 'gitlab', 'jira', 'webhook'] as const;
export type TrackerName = (typeof TRACKERS)[number];

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as REDMINE_API_KEY');
const httpUrl = z
  .string()
  .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), { message: 'expected an http(s) URL' });

/**
 * `regressions`: thresholds of the regression scan and where tickets go (docs in README, "Regressions"). Secrets are
 * never in the file: each tracker names the environment variables that hold them.
 */
export const regressionsSettingsSchema = z
  .strictObject({
    /** Yearly cost a regression must add at the current price, in currency units (a decimal string). */
    minImpactPerYear: z
      .string()
      .regex(/^\d+(\.\d{1,6})?$/, 'expected an amount such as "1000" or "12.50"')
      .default('1000'),
    /** (current share − base share) / base share at least this. */
    minRelativeChange: z.number().min(0).default(0.1),
    /** Family-wise significance level (Holm) of the per-function tests. */
    alpha: z.number().gt(0).lt(1).default(0.01),
    /** A finding that grows by this fraction of what was last notified gets a comment. */
    growthToComment: z.number().min(0).default(0.25),
    /** What a fixed regression does to its ticket: close it (with a comment), or only comment. */
    onResolved: z.enum(['close', 'comment']).default('close'),
    /** true: log and store what would be sent, send nothing. */
    dryRun: z.boolean().default(false),
    /** Where a ticket goes when neither the Component nor its owner Group has a routing annotation. */
    default: z.strictObject({ tracker: z.enum(TRACKERS), project: z.string().min(1) }).optional(),
    /**
     * The finding's dashboard page (`{service}`, `{fingerprint}` are replaced, e.g. `https://HOST/regressions/{fingerprint}`),
     * linked from every ticket message besides the attached flame graph; GitHub issues, which take no attachment, have
     * only this link. None when unset.
     */
    dashboardUrl: httpUrl.optional(),
    delivery: z
      .strictObject({
        /** Tries of one request before the row waits for the next run (with backoff between them). */
        attempts: z.number().int().min(1).max(10).default(3),
        /** First backoff in milliseconds, doubled each try. */
        backoffMs: z.number().int().min(0).max(60_000).default(500),
        /** Longest wait before a failed row is tried again by a later run, in seconds. */
        maxDelaySeconds: z.number().int().min(1).default(3600),
        /** Per-request timeout in milliseconds. */
        timeoutMs: z.number().int().min(100).default(15_000),
      })
      .prefault({}),
    trackers: z
      .strictObject({
        redmine: z.strictObject({ url: httpUrl, apiKeyEnv: envName }).optional(),
        github: z.strictObject({ url: httpUrl.default('https://api.github.com'), tokenEnv: envName }).optional(),
        gitlab: z.strictObject({ url: httpUrl.default('https://gitlab.com/api/v4'), tokenEnv: envName }).optional(),
        jira: z.strictObject({ url: httpUrl, userEnv: envName, tokenEnv: envName }).optional(),
        webhook: z.strictObject({ url: httpUrl, secretEnv: envName }).optional(),
      })
      .prefault({}),
  })
  .prefault({});

export type RegressionsSettings = z.output<typeof regressionsSettingsSchema>;
