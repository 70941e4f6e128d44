import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobsService } from '../../src/jobs/jobs.service';
import { RegressionsService } from '../../src/regressions/regressions.service';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';
import { catalogDir, DAY_MS, profile, push } from './support';

// A real Redmine: `bash ../shared/tools/redmine-ci.sh` (as root) prints both variables; .ci/run exports them.
const REDMINE_URL = process.env.REDMINE_URL;
const REDMINE_API_KEY = process.env.REDMINE_API_KEY;
if (!REDMINE_URL)
  console.warn(
    'regressions-redmine.e2e: REDMINE_URL is not set, skipping the delivery tests against a real Redmine (start one with ../shared/tools/redmine-ci.sh)',
  );

interface RedmineIssue {
  id: number;
  subject: string;
  description: string;
  status: { id: number; name: string };
  project: { name: string };
  journals?: Array<{ notes: string }>;
}

interface RedmineAttachment {
  filename: string;
  content_type: string;
  content_url: string;
  filesize: number;
}

async function redmine<T>(p: string): Promise<T> {
  const res = await fetch(`${REDMINE_URL}${p}`, { headers: { 'X-Redmine-API-Key': REDMINE_API_KEY! } });
  if (!res.ok) throw new Error(`redmine ${p}: ${res.status}`);
  return (await res.json()) as T;
}

/** Every issue (open or closed) of project payments whose description carries `token`. */
async function issuesWith(token: string): Promise<RedmineIssue[]> {
  const list = await redmine<{ issues: RedmineIssue[] }>(
    `/issues.json?project_id=payments&status_id=*&limit=100&sort=id:desc`,
  );
  return list.issues.filter((i) => i.description.includes(token));
}

describe.skipIf(!REDMINE_URL)('regression tickets in a real Redmine', () => {
  let app: TestApp;
  let db: DataSource;
  // A service name of its own per run: the Redmine instance keeps issues of earlier runs.
  const service = `shop-${Date.now().toString(36)}`;
  const D = Date.UTC(2026, 10, 21);
  const hour = (day: number) => new Date(D + day * DAY_MS + 10 * 3_600_000);
  const window = (day: number) => ({ from: new Date(D + day * DAY_MS), to: new Date(D + (day + 1) * DAY_MS) });
  const scan = (day: number, baselineDay: number) =>
    app.app.get(JobsService).run('regressions', {
      ...window(day),
      extra: {
        baselineFrom: new Date(D + baselineDay * DAY_MS).toISOString(),
        baselineTo: new Date(D + (baselineDay + 1) * DAY_MS).toISOString(),
      },
    });

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    process.env.FLAMEBILL_TEST_REDMINE_KEY = REDMINE_API_KEY;
    app = await startTestApp({
      logLevel: 'info',
      settings: {
        paths: { catalogDir: await catalogDir(service, { 'redmine/project': 'payments' }) },
        labels: { keys: ['endpoint', 'version'], maxValuesPerKey: 100 },
        prices: [{ costPerCoreHour: '0.04', effectiveFrom: '2026-01-01' }],
        regressions: {
          minImpactPerYear: '0',
          default: { tracker: 'redmine', project: 'platform' },
          trackers: { redmine: { url: REDMINE_URL!, apiKeyEnv: 'FLAMEBILL_TEST_REDMINE_KEY' } },
          delivery: { backoffMs: 10 },
        },
      },
    });
    const jobs = app.app.get(JobsService);
    await push(app.baseUrl, service, 'v1', hour(-1), profile('v1-a'));
    await push(app.baseUrl, service, 'v2', hour(0), profile('v2-regex'));
    await push(app.baseUrl, service, 'v1', hour(1), profile('v1-b'));
    await push(app.baseUrl, service, 'v2', hour(2), profile('v2-regex-b'));
    expect(await jobs.run('attribute')).toMatchObject({ status: 'succeeded' });
  }, 120_000);
  afterAll(async () => app?.close());

  it("files one issue in the owning team's project, files nothing on a re-scan, closes it when gone and reopens it when back", async () => {
    const first = await scan(0, -1);
    expect(first).toMatchObject({ status: 'succeeded', counts: { opened: 1, deliveryCreated: 1, deliverySent: 1 } });
    const [finding] = await app.app.get(RegressionsService).list({ service });
    expect(finding).toMatchObject({ function: 'main.validateEmail', kind: 'cum', state: 'open', team: 'shop-team' });
    expect(finding!.ticket).toMatchObject({ tracker: 'redmine', project: 'payments' });
    let issues = await issuesWith(finding!.fingerprint);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ project: { name: 'Payments' }, status: { id: 1 } });
    expect(issues[0]!.subject).toContain(`CPU regression in ${service}: main.validateEmail (cum)`);
    expect(issues[0]!.description).toContain(`flamebill-fingerprint:${finding!.fingerprint}`);
    expect(finding!.ticket!.url).toBe(`${REDMINE_URL}/issues/${issues[0]!.id}`);
    // The differential flame graph went up before the issue and came with its creation: one SVG attachment.
    const filed = await redmine<{ issue: { attachments: RedmineAttachment[] } }>(
      `/issues/${issues[0]!.id}.json?include=attachments`,
    );
    const filename = `flamebill-diff-${finding!.fingerprint.slice(0, 16)}.svg`;
    expect(filed.issue.attachments).toEqual([expect.objectContaining({ filename, content_type: 'image/svg+xml' })]);
    expect(issues[0]!.description).toContain(`Differential flame graph: attached (${filename})`);
    const svg = await (
      await fetch(filed.issue.attachments[0]!.content_url, { headers: { 'X-Redmine-API-Key': REDMINE_API_KEY! } })
    ).text();
    expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain(`Differential flame graph: main.validateEmail (cum) in ${service}</title>`);
    // validateEmail's frame is red (its share grew; `+`: v2 calls it on a path v1 did not) and outlined.
    expect(svg).toMatch(
      /<title>\+ main\.validateEmail\nbase [\d.]+ % → current [\d.]+ % \(\+[\d.]+ pts\)<\/title><rect [^>]*fill="hsl\(0, [^>]*stroke="#000000"/,
    );
    expect(filed.issue.attachments[0]!.filesize).toBe(Buffer.byteLength(svg));

    const again = await scan(0, -1);
    expect(again).toMatchObject({ status: 'succeeded', counts: { opened: 0, stayed: 1, deliverySent: 0 } });
    expect(await issuesWith(finding!.fingerprint)).toHaveLength(1);

    const gone = await scan(1, -1);
    expect(gone).toMatchObject({ status: 'succeeded', counts: { resolved: 1, deliverySent: 1, deliveryCreated: 0 } });
    issues = await issuesWith(finding!.fingerprint);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.status.id).toBe(5);
    expect(
      (await app.app.get(RegressionsService).list({ service, state: 'resolved' })).map((f) => f.fingerprint),
    ).toEqual([finding!.fingerprint]);

    const back = await scan(2, -1);
    expect(back).toMatchObject({ status: 'succeeded', counts: { reopened: 1, deliverySent: 1, deliveryCreated: 0 } });
    issues = await issuesWith(finding!.fingerprint);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.status.id).toBe(1);
    const full = await redmine<{ issue: RedmineIssue }>(`/issues/${issues[0]!.id}.json?include=journals`);
    // The resolution carries the figures of the day it was gone: validateEmail's share back near v1's.
    const resolvedNote = full.issue.journals![0]!.notes;
    expect(resolvedNote).toMatch(/Share of the service.s cpu&#47;nanoseconds: 3\.\d\d% → [234]\.\d\d%/);
    expect(full.issue.journals!.map((j) => j.notes.split('\n')[0])).toEqual([
      'The latest scan no longer shows this regression: resolved.',
      'This regression is back: reopened.',
    ]);
    expect(JSON.stringify(app.logs())).not.toContain(REDMINE_API_KEY);
  }, 120_000);
});
