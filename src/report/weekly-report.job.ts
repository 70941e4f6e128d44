import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { lastCompleteWeek, parseIsoWeek, type IsoWeek, type OrgReportView } from '../domain/report';
import { Job } from '../jobs/job.decorator';
import type { JobContext, JobOutcome, JobRunner } from '../jobs/job-runner';
import type { NewWorkItem, WorkItem } from '../jobs/work-queue.repository';
import type { CommitWrites, WorkHandler } from '../jobs/work-runner';
import { MailRepository, RecipientRefusedError, SmtpAuthError } from './mail.repository';
import { ReportDeliveryRepository } from './report-delivery.repository';
import { ReportRenderer } from './report-renderer';
import { REGRESSIONS_SOURCE, ReportViewService, type RegressionsSource } from './report-view.service';

/** What one item (one week, one recipient) carries. */
interface ReportItem {
  readonly kind: 'team' | 'org';
  readonly team: string | null;
  readonly to: string;
  readonly week: string;
  readonly dryRun: boolean;
  readonly resend: boolean;
  readonly undelivered?: OrgReportView['undelivered'];
}

/** Waits between attempts at one message when the server fails temporarily (not for refusals or auth). */
const RETRY_DELAYS_MS = [1_000, 4_000, 15_000];

/**
 * The weekly cost report: every team's email (to its catalog address and `report.extraRecipients`), then the
 * organisation's (to `report.orgRecipients`, with what could not be delivered in its footer). One work item per
 * (ISO week, recipient), and a send log, so a re-run or a second replica sends nothing twice.
 */
@Job({
  name: 'weekly-report',
  description:
    'email the weekly cost report to every team and to the organisation (default: the last complete ISO week)',
  defaultSchedule: '0 8 * * 1',
  timeZone: (settings) => settings.report.timezone,
  options: [
    {
      flags: '--week <iso-week>',
      description: 'ISO week to report, e.g. 2026-W49 (the current week is marked partial)',
    },
    { flags: '--team <name>', description: "only this team's report (no organisation email)" },
    { flags: '--resend', description: 'send again to recipients who already got this week' },
  ],
})
@Injectable()
export class WeeklyReportJob implements JobRunner, WorkHandler {
  readonly job = 'weekly-report';
  readonly handlers = [this];
  private readonly logger = new Logger('WeeklyReport');

  constructor(
    @InjectSettings() private readonly settings: Settings,
    private readonly views: ReportViewService,
    private readonly renderer: ReportRenderer,
    private readonly mail: MailRepository,
    private readonly deliveries: ReportDeliveryRepository,
    @Optional() @Inject(REGRESSIONS_SOURCE) private readonly regressions: RegressionsSource | null,
  ) {}

  async run(context: JobContext): Promise<JobOutcome> {
    const extra = context.options.extra ?? {};
    const week = this.weekOf(extra.week);
    const dryRun = context.options.dryRun === true || this.settings.report.dryRun;
    const resend = extra.resend === true;
    const only = typeof extra.team === 'string' ? extra.team : null;
    // Authenticate before anything goes out: a bad password stops the run with one line and sends nothing.
    if (!dryRun) await this.mail.verify();
    const teams = (await this.views.teams()).filter((t) => only === null || t.team === only);
    if (only !== null && teams.length === 0)
      return { status: 'failed', counts: {}, errors: [`no team named ${only} in the catalog in force`] };
    const noAddress: OrgReportView['undelivered'][number][] = [];
    const teamItems: NewWorkItem[] = [];
    for (const team of teams) {
      const to = [
        ...new Set([...(team.email ? [team.email] : []), ...(this.settings.report.extraRecipients[team.team] ?? [])]),
      ];
      if (to.length === 0)
        noAddress.push({
          team: team.team,
          reason: 'no email address in the catalog (spec.profile.email) or report.extraRecipients',
        });
      for (const address of to)
        teamItems.push(
          this.item(week, { kind: 'team', team: team.team, to: address, week: week.label, dryRun, resend }),
        );
    }
    for (const n of noAddress) this.logger.warn(`weekly report ${week.label}: ${n.team} not sent: ${n.reason}`);
    const mode = resend ? 'again' : 'once';
    const sentTeams = await context.work(teamItems, mode);
    const refused = (await this.deliveries.undelivered(week.label)).filter((d) => d.kind === 'team');
    const undelivered = [
      ...noAddress,
      ...refused.map((d) => ({ team: d.team ?? d.address, reason: `${d.address}: ${d.lastError ?? d.status}` })),
    ];
    const orgItems =
      only === null
        ? this.settings.report.orgRecipients.map((to) =>
            this.item(week, { kind: 'org', team: null, to, week: week.label, dryRun, resend, undelivered }),
          )
        : [];
    const sentOrg = await context.work(orgItems, mode);
    const errors = [
      ...sentTeams.errors,
      ...sentOrg.errors,
      ...undelivered.map((u) => `weekly-report ${week.label} ${u.team}: not delivered: ${u.reason}`),
    ];
    return {
      status: errors.length > 0 ? 'failed' : 'succeeded',
      counts: {
        teams: teams.length,
        messages: teamItems.length + orgItems.length,
        done: sentTeams.counts.done + sentOrg.counts.done,
        failed: sentTeams.counts.failed + sentOrg.counts.failed,
        undelivered: undelivered.length,
      },
      errors,
    };
  }

  async handle(item: WorkItem, commit: CommitWrites, signal: AbortSignal): Promise<void> {
    const p = item.payload as unknown as ReportItem;
    const week = parseIsoWeek(p.week)!;
    const recipient = item.itemKey.slice(p.week.length + 1);
    const sent = await this.deliveries.find(p.week, recipient);
    if (sent?.status === 'sent' && !p.resend && !p.dryRun) return commit(async () => undefined);
    const view =
      p.kind === 'team'
        ? await this.views.teamReport(
            (await this.views.teams()).find((t) => t.team === p.team) ?? { team: p.team!, email: null, services: [] },
            week,
            await this.regressionsOf(p.team!, week),
          )
        : await this.views.orgReport(week, p.undelivered ?? []);
    const mail = { to: p.to, messageId: messageId(p.week, recipient), report: this.renderer.render(view) };
    if (p.dryRun) {
      const file = await this.mail.writeEml(p.week, recipient, mail);
      this.logger.log(`weekly report ${p.week} for ${recipient} written to ${file} (dry run)`);
      return commit(async () => undefined);
    }
    await this.deliveries.markSending({
      week: p.week,
      recipient,
      kind: p.kind,
      team: p.team,
      address: p.to,
      messageId: mail.messageId,
    });
    const outcome = await this.sendWithRetries(mail, signal);
    await commit((tx) => this.deliveries.markOutcome(tx, p.week, recipient, outcome.status, outcome.detail));
    if (outcome.status === 'refused') this.logger.warn(`weekly report ${p.week} for ${recipient}: ${outcome.detail}`);
  }

  /** Retries temporary failures with backoff; a refused recipient is an outcome, an auth failure stops the item. */
  private async sendWithRetries(
    mail: Parameters<MailRepository['send']>[0],
    signal: AbortSignal,
  ): Promise<{ status: 'sent' | 'refused'; detail: string }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return { status: 'sent', detail: await this.mail.send(mail) };
      } catch (error) {
        if (error instanceof RecipientRefusedError) return { status: 'refused', detail: error.message };
        if (error instanceof SmtpAuthError || attempt >= RETRY_DELAYS_MS.length || signal.aborted) throw error;
        this.logger.warn(
          `weekly report to ${mail.to}: ${(error as Error).message}; retrying in ${RETRY_DELAYS_MS[attempt]! / 1000} s`,
        );
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
      }
    }
  }

  private item(week: IsoWeek, payload: ReportItem): NewWorkItem {
    const recipient = `${payload.kind}/${payload.team ?? 'org'}/${payload.to}`;
    return {
      job: 'weekly-report',
      itemKey: `${week.label}/${recipient}`,
      windowStart: new Date(week.fromMs),
      windowEnd: new Date(week.toMs),
      payload: { ...payload },
    };
  }

  private weekOf(option: unknown): IsoWeek {
    if (option === undefined) return lastCompleteWeek(Date.now());
    const week = typeof option === 'string' ? parseIsoWeek(option) : null;
    if (!week) throw new Error(`--week: expected an ISO week such as 2026-W49, got "${String(option)}"`);
    return week;
  }

  private regressionsOf(team: string, week: IsoWeek) {
    return this.regressions ? this.regressions.forTeam(team, week) : Promise.resolve(null);
  }
}

/** The same Message-ID for every attempt at one (week, recipient): a copy sent again after a crash is the same message. */
function messageId(week: string, recipient: string): string {
  return `<weekly-${week}-${createHash('sha256').update(recipient).digest('hex').slice(0, 24)}@flamebill>`;
}
