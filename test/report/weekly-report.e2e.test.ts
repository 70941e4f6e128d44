import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import type { DataSource } from 'typeorm';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportRenderer } from '../../src/report/report-renderer';
import { ReportViewService } from '../../src/report/report-view.service';
import { parseIsoWeek } from '../../src/domain/report';
import { CostQueryService } from '../../src/cost/cost-query.service';
import { DemoLoader } from '../../src/demo/demo.loader';
import { formatMoney } from '../../src/domain/cost';
import { JobsService } from '../../src/jobs/jobs.service';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';
import { startSmtpSink, type SmtpSink } from './smtp-sink';

const WEEK = '2026-W48'; // Mon 23 Nov – Sun 29 Nov 2026
const WEEK_FROM = new Date('2026-11-23T00:00:00Z');
const WEEK_TO = new Date('2026-11-30T00:00:00Z');
const REPO = path.resolve(__dirname, '../..');

/**
 * The weekly report end to end: the real demo profiles attributed into week 2026-W48, the example catalog (with the
 * observability team's address removed), a real SMTP server on loopback, and what arrives parsed back.
 */
describe('weekly report by email', () => {
  let db: DataSource;
  let smtp: SmtpSink;
  let app: TestApp;
  let catalogDir: string;

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    catalogDir = mkdtempSync(path.join(os.tmpdir(), 'flamebill-report-catalog-'));
    cpSync(path.join(REPO, 'catalog'), catalogDir, { recursive: true });
    const groups = path.join(catalogDir, 'groups.yaml');
    writeFileSync(groups, readFileSync(groups, 'utf8').replace(/\n\s*email: observability@acme\.example/, ''));
    smtp = await startSmtpSink();
    app = await startTestApp({
      settings: {
        paths: { catalogDir },
        // A price that makes the demo's few CPU-seconds worth dollars, so totals are not all $0.00.
        prices: [{ costPerCoreHour: '2000', effectiveFrom: '2026-01-01' }],
        report: {
          smtp: { host: '127.0.0.1', port: smtp.port, secure: false },
          from: 'flamebill <flamebill@acme.example>',
          orgRecipients: ['finance@acme.example'],
          extraRecipients: { storefront: ['refuse-me@acme.example'] },
          dashboardUrl: 'https://flamebill.acme.example',
        },
      },
    });
    await app.app.get(DemoLoader).loadIfEmpty(new Date('2026-11-25T09:17:00Z'), 6);
    // A function with a hostile name, pushed into the same week: it must arrive as text.
    const body = 'main;<script>alert(1)</script> 900\nmain;"><img src=x onerror=alert(2)> 800\n';
    const push = await fetch(
      `${app.baseUrl}/ingest?name=checkout&format=folded&from=${Date.parse('2026-11-25T05:10:00Z') / 1000}&sampleRate=100`,
      { method: 'POST', body },
    );
    expect(push.status).toBe(200);
    expect(await app.app.get(JobsService).run('attribute')).toMatchObject({ status: 'succeeded' });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
    rmSync(catalogDir, { recursive: true, force: true });
  });

  const to = (address: string) => smtp.received.filter((r) => r.rcptTo.includes(address));

  it('sends every team its report and the organisation its own, once, with totals equal to the query service', async () => {
    const summary = await app.app.get(JobsService).run('weekly-report', { extra: { week: WEEK } });
    // The observability team has no address, and storefront's extra address is refused: both reported, the rest sent.
    expect(summary.status).toBe('failed');
    expect(summary.errors.join('\n')).toMatch(/observability: not delivered: no email address/);
    expect(summary.errors.join('\n')).toMatch(/storefront: not delivered: refuse-me@acme\.example: recipient refused/);
    const recipients = smtp.received.flatMap((r) => r.rcptTo).sort();
    expect(recipients).toEqual(
      [
        'data-platform@acme.example',
        'devprod@acme.example',
        'engineering-leads@acme.example',
        'finance@acme.example',
        'payments-team@acme.example',
        'storefront@acme.example',
      ].sort(),
    );

    const payments = to('payments-team@acme.example')[0]!.mail;
    // One message, HTML and text parts and the chart, stays small enough for every mailbox (figure in the notes).
    const size = to('payments-team@acme.example')[0]!.size;
    process.stdout.write(
      `weekly report: the payments message is ${size} bytes (HTML ${String(payments.html).length}, text ${payments.text!.length}, chart ${payments.attachments[0]!.size})\n`,
    );
    expect(size).toBeLessThan(200_000);
    const answer = await app.app.get(CostQueryService).rows({
      from: WEEK_FROM,
      to: WEEK_TO,
      step: 'week',
      groupBy: 'service',
      scope: { kind: 'team', team: 'payments' },
    });
    expect(answer.total.cost).toBeGreaterThan(0n);
    const total = formatMoney(answer.total.cost, 'USD');
    expect(payments.subject).toBe(`payments: ${total} of compute in ${WEEK}`);
    expect(payments.text).toContain(`Total: ${total}`);
    expect(payments.html).toContain(total);
    for (const row of answer.rows) expect(payments.text).toContain(row.key);
    expect(payments.text).toContain('https://flamebill.acme.example/teams/payments?week=');
    expect(payments.html).toMatch(/href="https:\/\/flamebill\.acme\.example\/teams\/payments\?week&#x3D;\d{4}-W\d{2}"/);

    // The 12-week chart: an inline PNG referenced by cid, decodable.
    const chart = payments.attachments.find((a) => a.contentType === 'image/png')!;
    expect(payments.html).toContain(`cid:${chart.cid}`);
    const png = PNG.sync.read(chart.content);
    expect([png.width, png.height]).toEqual([1120, 280]);
    expect(payments.html).not.toMatch(/<script|<style|src="http/); // no script, CSS inlined, no remote image

    const org = to('finance@acme.example')[0]!.mail;
    const teams = await app.app
      .get(CostQueryService)
      .rows({ from: WEEK_FROM, to: WEEK_TO, step: 'week', groupBy: 'team' });
    expect(org.subject).toBe(`Compute cost ${WEEK}: ${formatMoney(teams.total.cost, 'USD')}`);
    expect(org.text).toContain('difference $0.00');
    expect(org.text).toMatch(/Not delivered this week:\n\s+observability: no email address/);
    expect(org.text).toContain('refuse-me@acme.example');
  });

  it('shows hostile function names as text in both parts', () => {
    const payments = to('payments-team@acme.example')[0]!.mail;
    expect(payments.text).toContain('<script>alert(1)</script>');
    expect(payments.text).toContain('"><img src=x onerror=alert(2)>');
    const html = String(payments.html);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt;'); // handlebars escapes = too
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img src=x');
  });

  it('a re-run and two runs at once send nothing twice; --resend sends again', async () => {
    const before = smtp.received.length;
    const jobs = app.app.get(JobsService);
    await Promise.all([
      jobs.run('weekly-report', { extra: { week: WEEK } }),
      jobs.run('weekly-report', { extra: { week: WEEK } }),
    ]);
    expect(smtp.received.length).toBe(before);
    await jobs.run('weekly-report', { extra: { week: WEEK, team: 'payments', resend: true } });
    expect(smtp.received.length).toBe(before + 1);
    expect(to('payments-team@acme.example')).toHaveLength(2);
    expect(to('payments-team@acme.example')[1]!.mail.messageId).toBe(
      to('payments-team@acme.example')[0]!.mail.messageId,
    );
  });

  it('retries a server that refuses for a while, and sends each message once', async () => {
    smtp.failNext(2);
    const before = smtp.received.length;
    const summary = await app.app
      .get(JobsService)
      .run('weekly-report', { extra: { week: '2026-W47', team: 'payments' } });
    expect(summary.status).toBe('succeeded');
    expect(smtp.received.length).toBe(before + 1);
    const [row] = (await db.query(`SELECT status, attempts FROM report_deliveries WHERE week = '2026-W47'`)) as Array<{
      status: string;
      attempts: number;
    }>;
    expect(row).toEqual({ status: 'sent', attempts: 1 });
  }, 60_000);

  const CHROMIUM = '/usr/bin/chromium';
  it.skipIf(!existsSync(CHROMIUM))(
    'renders in Chromium at 1280 and 375 px wide without horizontal overflow (skipped without /usr/bin/chromium)',
    async () => {
      const views = app.app.get(ReportViewService);
      const team = (await views.teams()).find((t) => t.team === 'payments')!;
      const rendered = app.app.get(ReportRenderer).render(await views.teamReport(team, parseIsoWeek(WEEK)!, null));
      let html = rendered.html;
      for (const a of rendered.attachments)
        html = html.split(`cid:${a.cid}`).join(`data:${a.contentType};base64,${a.content.toString('base64')}`);
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      try {
        for (const width of [1280, 375]) {
          const page = await browser.newPage({ viewport: { width, height: 900 } });
          const requests: string[] = [];
          page.on('request', (r) => void (r.url().startsWith('data:') ? undefined : requests.push(r.url())));
          await page.setContent(html, { waitUntil: 'load' });
          // FLAMEBILL_SCREENSHOTS=1 refreshes the screenshots the README shows.
          if (process.env.FLAMEBILL_SCREENSHOTS === '1')
            await page.screenshot({ path: path.join(REPO, 'docs', `weekly-report-${width}.png`), fullPage: true });
          const overflow = (await page.evaluate(
            'document.documentElement.scrollWidth - document.documentElement.clientWidth',
          )) as number;
          expect(overflow, `horizontal overflow at ${width} px`).toBeLessThanOrEqual(0);
          expect(requests, 'the email loads nothing remote').toEqual([]);
          await page.close();
        }
      } finally {
        await browser.close();
      }
    },
  );

  it('--dry-run writes .eml files and sends nothing', async () => {
    const before = smtp.received.length;
    const dir = app.settings.report.dryRunDir;
    await app.app
      .get(JobsService)
      .run('weekly-report', { dryRun: true, extra: { week: '2026-W46', team: 'storefront' } });
    expect(smtp.received.length).toBe(before);
    const files = readdirSync(path.resolve(dir, '2026-W46'));
    expect(files.sort()).toEqual([
      'team_storefront_refuse-me@acme.example.eml',
      'team_storefront_storefront@acme.example.eml',
    ]);
    expect(readFileSync(path.resolve(dir, '2026-W46', files[1]!), 'utf8')).toMatch(/^Subject: storefront: /m);
    rmSync(path.resolve(dir), { recursive: true, force: true });
  });
});

describe('an SMTP server that refuses our credentials', () => {
  it('stops the run with one line naming the server and the user, never the password, and sends nothing', async () => {
    const smtp = await startSmtpSink({ requireAuth: true });
    const db = await testDataSource();
    await truncateTables(db, ['job_runs', 'work_items', 'report_deliveries']);
    const app = await startTestApp({
      logLevel: 'fatal',
      settings: {
        report: {
          smtp: {
            host: '127.0.0.1',
            port: smtp.port,
            secure: false,
            auth: { user: 'reports', pass: 'wrong-password' },
          },
          orgRecipients: ['finance@acme.example'],
        },
      },
    });
    try {
      const run = app.app.get(JobsService).run('weekly-report', { extra: { week: WEEK } });
      await expect(run).rejects.toThrow(/^SMTP authentication failed at 127\.0\.0\.1:\d+ as reports: /);
      await run.catch((error: Error) => expect(error.message).not.toContain('wrong-password'));
      expect(smtp.received).toHaveLength(0);
      const [jobRun] = (await db.query(`SELECT status, error FROM job_runs WHERE job = 'weekly-report'`)) as Array<{
        status: string;
        error: string;
      }>;
      expect(jobRun!.status).toBe('failed');
      expect(jobRun!.error).not.toContain('wrong-password');
    } finally {
      await app.close();
      await smtp.close();
    }
  });
});
