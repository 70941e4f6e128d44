import { DataSource } from 'typeorm';
import { JobsService } from '../../src/jobs/jobs.service';
import { startApiApp, attributeDemo, type ApiTestApp } from '../api/support';
import type { SettingsOverrides } from '../../src/config/settings.loader';

/** The two demo days the dashboard tests show: 2026-11-20 (three windows) and 2026-11-21 (six). */
export const PERIOD = 'from=2026-11-20&to=2026-11-21';
export const API_PERIOD = 'from=2026-11-20T00:00:00Z&to=2026-11-22T00:00:00Z&step=day';

/**
 * The real application with the real demo profiles attributed (the API tests' placement: 2026-11-21 06:00–12:00 and
 * the first three windows a day earlier), their trees built by the `profile-trees` job, and the regression scan of the
 * 21st against the 20th run by the `regressions` job (checkout 1.15.0 is new on the 21st), tickets in dry run.
 */
export async function startDashboardApp(extra: SettingsOverrides = {}): Promise<ApiTestApp> {
  const app = await startApiApp({
    regressions: {
      minImpactPerYear: '0',
      // Two demo days hold few samples (2 ms sampling for about 1.5 s a window): significance is looser than in
      // production, where a day holds hours of samples.
      alpha: 0.05,
      dryRun: true,
      trackers: { github: { tokenEnv: 'FLAMEBILL_TEST_UNUSED_TOKEN' } },
      default: { tracker: 'github', project: 'acme/platform' },
    },
    ...extra,
  });
  await attributeDemo(app, { raw: true });
  const jobs = app.app.get(JobsService);
  const day = (d: string) => new Date(`${d}T00:00:00Z`);
  const trees = await jobs.run('profile-trees', { from: day('2026-11-20'), to: day('2026-11-22') });
  if (trees.status !== 'succeeded') throw new Error(`profile-trees: ${JSON.stringify(trees)}`);
  const scan = await jobs.run('regressions', {
    from: day('2026-11-21'),
    to: day('2026-11-22'),
    extra: { baselineFrom: day('2026-11-20').toISOString(), baselineTo: day('2026-11-21').toISOString() },
  });
  if (scan.status !== 'succeeded') throw new Error(`regressions: ${JSON.stringify(scan)}`);
  await jobs.run('ticket-delivery');
  return app;
}

export async function findings(
  app: ApiTestApp,
): Promise<Array<{ fingerprint: string; service: string; function_name: string }>> {
  return app.app
    .get(DataSource)
    .query(`SELECT fingerprint, service, function_name FROM regression_findings ORDER BY service, function_name`);
}
