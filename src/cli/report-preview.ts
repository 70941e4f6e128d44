import { writeFile } from 'node:fs/promises';
import { loadSettings } from '../config/settings.loader';
import { openDatabaseTarget } from '../database/database-target';
import { lastCompleteWeek, parseIsoWeek } from '../domain/report';
import { createCliLogger } from '../logging/root-logger';

/**
 * `flamebill report preview`: renders one weekly email from the database as it is now, without sending it. The
 * chart is embedded as a data URI (a browser cannot follow the message's `cid:` reference).
 * @returns the exit code.
 */
export async function previewReport(options: { team?: string; week?: string; out: string }): Promise<number> {
  const week = options.week === undefined ? lastCompleteWeek(Date.now()) : parseIsoWeek(options.week);
  if (!week) throw new Error(`--week: expected an ISO week such as 2026-W49, got "${options.week}"`);
  const loaded = loadSettings();
  const settings = { ...loaded, schedules: { ...loaded.schedules, enabled: false } };
  const logger = createCliLogger(settings.logging.level === 'info' ? 'warn' : settings.logging.level);
  const target = await openDatabaseTarget(settings, {
    role: 'cli',
    log: (message) => logger.info({ context: 'Database' }, message),
  });
  try {
    const { createAppContext } = await import('../server/bootstrap.js');
    const { ReportViewService } = await import('../report/report-view.service.js');
    const { ReportRenderer } = await import('../report/report-renderer.js');
    const context = await createAppContext({ settings, databaseUrl: target.url, logger });
    try {
      const views = context.get(ReportViewService);
      let view;
      if (options.team === undefined) view = await views.orgReport(week, []);
      else {
        const team = (await views.teams()).find((t) => t.team === options.team);
        if (!team) throw new Error(`--team: no team named ${options.team} in the catalog in force`);
        view = await views.teamReport(team, week, null);
      }
      const rendered = context.get(ReportRenderer).render(view);
      let html = rendered.html;
      for (const a of rendered.attachments)
        html = html.split(`cid:${a.cid}`).join(`data:${a.contentType};base64,${a.content.toString('base64')}`);
      await writeFile(options.out, html);
      process.stdout.write(`${options.out}: ${rendered.subject}\n`);
      return 0;
    } finally {
      await context.close();
    }
  } finally {
    await target.release();
  }
}
