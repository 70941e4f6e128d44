import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobsService } from '../../src/jobs/jobs.service';
import { TicketDeliveryService } from '../../src/regressions/ticket-delivery.service';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';
import { GitHubFake } from './github-fake';
import { catalogDir, queueFinding } from './support';

const TOKEN = 'ghp_testtoken0000000000000000000000000000';

describe('tickets to GitHub (a loopback server answering as the GitHub REST API)', () => {
  let db: DataSource;
  let app: TestApp | null = null;
  let github: GitHubFake;

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    github = await new GitHubFake(TOKEN, ['acme/shop']).start();
    process.env.FLAMEBILL_TEST_GITHUB_TOKEN = TOKEN;
    process.env.FLAMEBILL_TEST_GITHUB_BAD = 'ghp_bad';
  });
  afterEach(async () => {
    await app?.close();
    app = null;
  });
  afterAll(async () => github?.close());

  const start = async (service: string, tokenEnv = 'FLAMEBILL_TEST_GITHUB_TOKEN', repo = 'acme/shop') =>
    startTestApp({
      settings: {
        paths: {
          catalogDir: await catalogDir(service, { 'github.com/project-slug': repo, 'jira/project-key': 'SHOP' }),
        },
        regressions: { trackers: { github: { url: github.url, tokenEnv } }, delivery: { attempts: 3, backoffMs: 10 } },
      },
    });

  it('files one labelled issue routed by the Component annotation, comments and closes it when resolved, reopens it when back', async () => {
    app = await start('shop');
    const delivery = app.app.get(TicketDeliveryService);
    const fingerprint = await queueFinding(db, 'shop');
    expect((await delivery.deliver()).counts).toMatchObject({ sent: 1, created: 1 });
    const [issue] = github.repos.get('acme/shop')!;
    expect(issue).toMatchObject({ number: 1, state: 'open', labels: ['flamebill-regression'] });
    expect(issue!.title).toBe('CPU regression in shop: main.validateEmail (cum) 3.79% → 39.76%');
    expect(issue!.body).toContain(`<!-- flamebill-fingerprint:${fingerprint} -->`);
    const [ticket] = (await db.query(`SELECT tracker, project, remote_id, url FROM regression_tickets`)) as Array<
      Record<string, string>
    >;
    expect(ticket).toEqual({
      tracker: 'github',
      project: 'acme/shop',
      remote_id: '1',
      url: 'https://github.com/acme/shop/issues/1',
    });

    await queueFinding(db, 'shop', 'resolved');
    expect((await delivery.deliver()).counts).toMatchObject({ sent: 1, created: 0 });
    expect(issue).toMatchObject({ state: 'closed', state_reason: 'completed' });
    expect(issue!.comments[0]).toMatch(/^The latest scan no longer shows this regression/);

    await queueFinding(db, 'shop', 'reopened');
    expect((await delivery.deliver()).counts).toMatchObject({ sent: 1, created: 0 });
    expect(issue).toMatchObject({ state: 'open', state_reason: 'reopened' });
    expect(github.repos.get('acme/shop')).toHaveLength(1);
  });

  it('a lost record is found again by the marker, across pages; a rate limit is waited out', async () => {
    app = await start('shop');
    // Three more issues of other findings so that shop's is on the second page of two.
    for (let i = 0; i < 3; i++)
      github.repos.get('acme/shop')!.push({
        number: 2 + i,
        title: 'x',
        body: `<!-- flamebill-fingerprint:${'0'.repeat(31)}${i} -->`,
        labels: ['flamebill-regression'],
        state: 'open',
        state_reason: null,
        comments: [],
      });
    await db.query(`DELETE FROM regression_tickets`);
    github.rateLimited = 1;
    github.seen.length = 0;
    await queueFinding(db, 'shop', 'opened');
    const result = await app.app.get(TicketDeliveryService).deliver();
    expect(result.counts).toMatchObject({ sent: 1, adopted: 1, created: 0, failed: 0 });
    expect(github.seen.filter((r) => r.startsWith('GET /repos/acme/shop/issues?')).length).toBe(3); // rate-limited, page 1, page 2
    expect(github.repos.get('acme/shop')).toHaveLength(4);
  });

  it("bad credentials and an unknown repository are refusals with GitHub's message; the token never appears", async () => {
    app = await start('shop', 'FLAMEBILL_TEST_GITHUB_BAD');
    await queueFinding(db, 'shop', 'grew');
    const summary = await app.app.get(JobsService).run('ticket-delivery');
    expect(summary.status).toBe('failed');
    // The finding has its ticket (issue 1): growth is a comment.
    expect(summary.errors[0]).toBe(
      'github: POST /repos/acme/shop/issues/1/comments answered 401: {"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}',
    );
    expect(JSON.stringify(summary) + JSON.stringify(app.logs())).not.toContain('ghp_bad');
    await db.query(`DELETE FROM regression_outbox`);
    await app.close();
    app = await start('shop-gone', 'FLAMEBILL_TEST_GITHUB_TOKEN', 'acme/gone');
    await queueFinding(db, 'shop-gone');
    const gone = await app.app.get(TicketDeliveryService).deliver();
    expect(gone.errors[0]).toMatch(/^github: GET \/repos\/acme\/gone\/issues answered 404: \{"message":"Not Found"/);
    expect(gone.counts).toMatchObject({ failed: 1, pending: 1 });
  });

  it('a route to a tracker that is not configured is a catalog problem named with file and line', async () => {
    app = await startTestApp({
      settings: { paths: { catalogDir: await catalogDir('jira-only', { 'jira/project-key': 'SHOP' }) } },
    });
    await db.query(`DELETE FROM regression_outbox`);
    await queueFinding(db, 'jira-only');
    const result = await app.app.get(TicketDeliveryService).deliver();
    expect(result.errors[0]).toMatch(
      /^service jira-only routes to jira\/SHOP, but regressions\.trackers\.jira is not configured \(catalog problem: .*catalog\.yaml:\d+, annotation jira\/project-key\)$/,
    );
  });
});
