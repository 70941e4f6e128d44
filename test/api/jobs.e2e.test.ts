import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { JobRequestRepository } from '../../src/jobs/job-request.repository';
import { SchedulerService } from '../../src/jobs/scheduler.service';
import { testDataSource, truncateTables } from '../support/database';
import { attributeDemo, startApiApp, type ApiTestApp } from './support';

/** Job triggers over the API (admin): stored as requests, run by the process that runs scheduled jobs. */
describe('job triggers', () => {
  let app: ApiTestApp;
  let admin: string;
  let read: string;

  beforeAll(async () => {
    await truncateTables(await testDataSource());
    app = await startApiApp();
    await attributeDemo(app);
    admin = await app.key('admin');
    read = await app.key('read');
  }, 120_000);
  afterAll(async () => app?.close());

  const post = (path: string, key: string | null) =>
    fetch(`${app.baseUrl}${path}`, { method: 'POST', headers: key ? { authorization: `Bearer ${key}` } : {} }).then(
      async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }),
    );

  it('lists the registered jobs with their schedules; admin only', async () => {
    const list = await app.get('/api/v1/jobs', admin);
    expect(list.status).toBe(200);
    const names = (list.body.jobs as Array<{ job: string; schedule: string }>).map((j) => j.job);
    expect(names).toEqual(expect.arrayContaining(['attribute', 'pull', 'weekly-report', 'regressions']));
    expect((await app.get('/api/v1/jobs', read)).status).toBe(403);
    expect((await app.get('/api/v1/jobs', null)).status).toBe(401);
  });

  it('a requested run waits for the scheduling process, which runs it once and records its summary', async () => {
    const asked = await post(
      '/api/v1/jobs/attribute/runs?from=2026-11-21T06:00:00Z&to=2026-11-21T08:00:00Z&force=true',
      admin,
    );
    expect(asked.status).toBe(200);
    expect(asked.body).toMatchObject({
      job: 'attribute',
      status: 'pending',
      options: { from: '2026-11-21T06:00:00.000Z', to: '2026-11-21T08:00:00.000Z', force: true },
      requestedBy: expect.stringMatching(/^test-/),
    });
    // This test app runs no schedules (schedules.enabled: false), so it says who will take the request.
    expect(asked.body.note).toMatch(/schedules.enabled: false/);
    const url = asked.body.statusUrl as string;
    expect((await app.get(url, admin)).body.status).toBe('pending');

    // What the scheduling process's timer does every 2 s.
    await app.app.get(SchedulerService).pollRequests();
    await expect
      .poll(async () => (await app.get(url, admin)).body.status, { timeout: 30_000, interval: 100 })
      .toBe('succeeded');
    const done = (await app.get(url, admin)).body;
    expect(done.summary).toMatchObject({ job: 'attribute', status: 'succeeded', counts: { done: 2, failed: 0 } });
    // Taken once: a second poll finds nothing pending.
    await app.app.get(SchedulerService).pollRequests();
    const [{ n }] = await app.app.get(DataSource).query(`SELECT count(*)::int AS n FROM job_requests`);
    expect(n).toBe(1);
    // Audited like every admin call.
    await new Promise((r) => setTimeout(r, 100));
    const audit = await app.get('/api/v1/audit?limit=20', admin);
    expect(
      (audit.body.rows as Array<{ path: string; status: number }>).some(
        (r) => r.path === '/api/v1/jobs/attribute/runs' && r.status === 200,
      ),
    ).toBe(true);
  }, 60_000);

  it('refuses an unknown job, half a range, a bad flag and a non-admin key, naming the parameter', async () => {
    expect(await post('/api/v1/jobs/nope/runs', admin)).toMatchObject({ status: 404, body: { param: 'job' } });
    expect(await post('/api/v1/jobs/attribute/runs?from=2026-11-21T06:00:00Z', admin)).toMatchObject({
      status: 400,
      body: { param: 'to' },
    });
    expect(await post('/api/v1/jobs/attribute/runs?force=yes', admin)).toMatchObject({
      status: 400,
      body: { param: 'force' },
    });
    expect((await post('/api/v1/jobs/attribute/runs', read)).status).toBe(403);
    expect((await app.get('/api/v1/jobs/requests/999999', admin)).status).toBe(404);
  });

  it('two processes polling at once take a request once; a request whose process died is abandoned', async () => {
    const repo = app.app.get(JobRequestRepository);
    const request = await repo.insert('retention', {}, 'test');
    const [a, b] = await Promise.all([repo.claimNext(), repo.claimNext()]);
    expect([a?.id, b?.id].filter(Boolean)).toEqual([request.id]);
    await app.app
      .get(DataSource)
      .query(`UPDATE job_requests SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1`, [request.id]);
    expect(await repo.abandonStale(120_000)).toBe(1);
    expect((await repo.get(request.id))?.status).toBe('abandoned');
  });
});
