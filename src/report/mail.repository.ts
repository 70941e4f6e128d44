import { Injectable } from '@nestjs/common';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import type { RenderedReport } from './report-renderer';

/** A message for one recipient. `messageId` is stable per (week, recipient), so a resent copy is recognisably the same. */
export interface OutgoingMail {
  readonly to: string;
  readonly messageId: string;
  readonly report: RenderedReport;
}

/** The SMTP server refused to let us in: no message may go out half-way through a run. */
export class SmtpAuthError extends Error {
  override readonly name = 'SmtpAuthError';
}

/** The server refused this recipient (a 5xx to RCPT TO): report it and go on with the others. */
export class RecipientRefusedError extends Error {
  override readonly name = 'RecipientRefusedError';
}

/**
 * Every side effect of sending a report: SMTP through nodemailer (`report.smtp`, or `SMTP_URL`), or `.eml` files in
 * `report.dryRunDir`. Credentials appear in no message or log (errors name host, port and user only).
 */
@Injectable()
export class MailRepository {
  private transport: ReturnType<typeof nodemailer.createTransport> | null = null;

  constructor(@InjectSettings() private readonly settings: Settings) {}

  /** host:port (user) of the configured server, for messages; never the password. */
  describe(): string {
    const smtp = this.settings.report.smtp;
    return smtp
      ? `${smtp.host}:${smtp.port}${smtp.auth ? ` as ${smtp.auth.user}` : ''}`
      : 'no SMTP server (report.smtp or SMTP_URL)';
  }

  /** Connects and authenticates once before a run sends anything. @throws SmtpAuthError, or Error when unreachable. */
  async verify(): Promise<void> {
    try {
      await this.smtp().verify();
    } catch (error) {
      throw classify(error, this.describe());
    }
  }

  async send(mail: OutgoingMail): Promise<string> {
    try {
      const info = await this.smtp().sendMail(this.message(mail));
      return String(info.response ?? '');
    } catch (error) {
      throw classify(error, this.describe());
    }
  }

  /** Writes the message as `<dir>/<week>/<name>.eml` (dry run); returns the path. */
  async writeEml(week: string, name: string, mail: OutgoingMail): Promise<string> {
    const dir = path.resolve(this.settings.report.dryRunDir, week);
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${name.replace(/[^A-Za-z0-9._@-]+/g, '_')}.eml`);
    const raw = await new MailComposer(this.message(mail)).compile().build();
    await writeFile(file, raw);
    return file;
  }

  close(): void {
    this.transport?.close();
    this.transport = null;
  }

  private message(mail: OutgoingMail) {
    const { report } = mail;
    return {
      from: this.settings.report.from,
      to: mail.to,
      subject: report.subject,
      messageId: mail.messageId,
      html: report.html,
      text: report.text,
      attachments: report.attachments.map((a) => ({ ...a })),
    };
  }

  private smtp() {
    const smtp = this.settings.report.smtp;
    if (!smtp) throw new Error('no SMTP server configured: set report.smtp or SMTP_URL (or report.dryRun: true)');
    this.transport ??= nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      ...(smtp.auth ? { auth: { user: smtp.auth.user, pass: smtp.auth.pass } } : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    return this.transport;
  }
}

/** nodemailer's errors as ours: auth (EAUTH, 535), a refused recipient (EENVELOPE with a 5xx), anything else. */
function classify(error: unknown, server: string): Error {
  const e = error as { code?: string; responseCode?: number; response?: string; message?: string };
  const reply = e.response ?? e.message ?? String(error);
  if (e.code === 'EAUTH' || e.responseCode === 535)
    return new SmtpAuthError(`SMTP authentication failed at ${server}: ${reply}`);
  if (e.code === 'EENVELOPE' && (e.responseCode ?? 0) >= 500)
    return new RecipientRefusedError(`recipient refused by ${server}: ${reply}`);
  return new Error(`SMTP ${server}: ${reply}`);
}
