import { CronTime } from 'cron';
import { z } from 'zod';

const emailSchema = z.email({ error: 'expected an email address such as finance@example.com' });

/** SMTP server of the reports: `SMTP_URL` (smtp://user:pass@host:587, smtps://...) overrides it. */
const smtpSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** TLS from the first byte (port 465, `smtps://`); false still upgrades with STARTTLS when the server offers it. */
  secure: z.boolean().default(false),
  auth: z.strictObject({ user: z.string().min(1), pass: z.string() }).optional(),
});
export type SmtpSettings = z.output<typeof smtpSchema>;

/**
 * `report`: the weekly cost report by email (README, Weekly report). A team's report goes to its Group's
 * `spec.profile.email` in the catalog and to `extraRecipients[team]`; the organisation's to `orgRecipients`.
 */
export const reportSettingsSchema = z
  .strictObject({
    smtp: smtpSchema.optional(),
    from: emailSchema
      .or(z.string().regex(/^[^<>]+ <[^<>@\s]+@[^<>\s]+>$/, 'expected an address or "Name <address>"'))
      .default('flamebill <flamebill@localhost>'),
    orgRecipients: z.array(emailSchema).default([]),
    /** Per team name: more addresses that get its report. */
    extraRecipients: z.record(z.string(), z.array(emailSchema)).default({}),
    /** When the weekly report runs, in `timezone` (default: Monday 08:00). */
    schedule: z
      .string()
      .refine((v) => {
        try {
          new CronTime(v, 'UTC');
          return true;
        } catch {
          return false;
        }
      }, 'not a cron expression')
      .default('0 8 * * 1'),
    timezone: z
      .string()
      .refine(
        (tz) => Intl.supportedValuesOf('timeZone').includes(tz) || tz === 'UTC',
        'expected an IANA time zone such as Europe/Paris',
      )
      .default('UTC'),
    /** Base URL of the dashboard; a team's link is `<dashboardUrl>/teams/<team>`. */
    dashboardUrl: z.url().optional(),
    /** Write the messages as .eml files to `dryRunDir` instead of sending them. */
    dryRun: z.boolean().default(false),
    dryRunDir: z.string().default('./data/outbox'),
    /** Attempts per message before it is reported as failed (a later run retries it). */
    maxAttempts: z.number().int().min(1).max(20).default(5),
  })
  .prefault({});
export type ReportSettings = z.output<typeof reportSettingsSchema>;

/** `SMTP_URL` as the `smtp` section: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://...:465 (TLS). */
export function parseSmtpUrl(text: string): unknown {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return text;
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
  };
}
