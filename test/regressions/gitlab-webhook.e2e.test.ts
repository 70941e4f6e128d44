import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TicketDeliveryService } from '../../src/regressions/ticket-delivery.service';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';
import { catalogDir, queueFinding, storeTrees } from './support';

interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  bytes: Buffer;
}

/** A multipart/form-data request's parts, parsed by the platform's own parser (undici's, as a server would). */
function formOf(r: Recorded): Promise<FormData> {
  return new Response(new Uint8Array(r.bytes), {
    headers: { 'content-type': String(r.headers['content-type']) },
  }).formData();
}

/** A loopback server that records requests and answers with `answer` (status, JSON body, headers). */
type Answer = { status: number; body: unknown; headers?: Record<string, string> };

async function server(
  answer: (r: Recorded) => Answer,
): Promise<{ url: string; seen: Recorded[]; close: () => Promise<void> }> {
  const seen: Recorded[] = [];
  const s = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const r = { method: req.method!, path: req.url!, headers: req.headers, raw: bytes.toString(), bytes };
    seen.push(r);
    const a = answer(r);
    res.writeHead(a.status, { 'Content-Type': 'application/json', ...(a.headers ?? {}) }).end(JSON.stringify(a.body));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => s.close(() => resolve())),
  };
}

describe('tickets to GitLab, Jira and a signed webhook (loopback servers answering as those APIs do)', () => {
  let db: DataSource;
  let app: TestApp | null = null;

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    process.env.FLAMEBILL_TEST_GITLAB_TOKEN = 'glpat-test';
    process.env.FLAMEBILL_TEST_WEBHOOK_SECRET = 'webhook-secret';
    process.env.FLAMEBILL_TEST_JIRA_USER = 'bot@acme.test';
    process.env.FLAMEBILL_TEST_JIRA_TOKEN = 'jira-token';
  });
  afterEach(async () => {
    await app?.close();
    app = null;
  });

  it('GitLab: a 429 is retried, the issue is created in the URL-encoded project with the label, then closed with a note', async () => {
    let limited = 1;
    // As https://docs.gitlab.com/api/issues/ answers: 201 with iid and web_url; notes 201; PUT 200; 429 with Retry-After.
    const gitlab = await server((r): Answer => {
      if (limited-- > 0)
        return { status: 429, body: { message: '429 Too Many Requests' }, headers: { 'Retry-After': '1' } };
      if (r.headers['private-token'] !== 'glpat-test') return { status: 401, body: { message: '401 Unauthorized' } };
      if (r.method === 'GET') return { status: 200, body: [], headers: { 'x-next-page': '' } };
      if (r.method === 'POST' && r.path === '/api/v4/projects/acme%2Fshop/issues')
        return { status: 201, body: { iid: 7, web_url: 'https://gitlab.com/acme/shop/-/issues/7' } };
      if (r.method === 'POST' && r.path === '/api/v4/projects/acme%2Fshop/issues/7/notes')
        return { status: 201, body: { id: 1 } };
      if (r.method === 'PUT' && r.path === '/api/v4/projects/acme%2Fshop/issues/7')
        return { status: 200, body: { iid: 7, state: 'closed' } };
      return { status: 404, body: { message: '404 Not found' } };
    });
    try {
      app = await startTestApp({
        settings: {
          paths: { catalogDir: await catalogDir('gl-shop', { 'gitlab.com/project-slug': 'acme/shop' }) },
          regressions: {
            trackers: { gitlab: { url: `${gitlab.url}/api/v4`, tokenEnv: 'FLAMEBILL_TEST_GITLAB_TOKEN' } },
            delivery: { backoffMs: 10 },
          },
        },
      });
      const delivery = app.app.get(TicketDeliveryService);
      await queueFinding(db, 'gl-shop');
      expect((await delivery.deliver()).counts).toMatchObject({ sent: 1, created: 1, failed: 0 });
      const created = gitlab.seen.find((r) => r.method === 'POST')!;
      expect(JSON.parse(created.raw)).toMatchObject({
        labels: 'flamebill-regression',
        title: 'CPU regression in gl-shop: main.validateEmail (cum) 3.79% → 39.76%',
      });
      expect(gitlab.seen[0]!.path).toMatch(
        /^\/api\/v4\/projects\/acme%2Fshop\/issues\?labels=flamebill-regression&state=all/,
      );
      await queueFinding(db, 'gl-shop', 'resolved');
      expect((await delivery.deliver()).counts).toMatchObject({ sent: 1 });
      expect(gitlab.seen.slice(-2).map((r) => `${r.method} ${r.path} ${r.raw.slice(0, 40)}`)).toEqual([
        'POST /api/v4/projects/acme%2Fshop/issues/7/notes {"body":"The latest scan no longer shows',
        'PUT /api/v4/projects/acme%2Fshop/issues/7 {"state_event":"close"}',
      ]);
    } finally {
      await gitlab.close();
    }
  });

  it('webhook: one POST per message, signed with HMAC-SHA256 of the raw body, the same idempotency key on a retry', async () => {
    let fail = 1;
    const hook = await server((): Answer =>
      fail-- > 0 ? { status: 502, body: { error: 'bad gateway' } } : { status: 204, body: {} },
    );
    try {
      app = await startTestApp({
        settings: {
          paths: { catalogDir: await catalogDir('hook-shop', { 'flamebill.io/webhook': 'perf-channel' }) },
          regressions: {
            trackers: { webhook: { url: `${hook.url}/flamebill`, secretEnv: 'FLAMEBILL_TEST_WEBHOOK_SECRET' } },
            delivery: { backoffMs: 10 },
          },
        },
      });
      const fingerprint = await queueFinding(db, 'hook-shop');
      expect((await app.app.get(TicketDeliveryService).deliver()).counts).toMatchObject({ sent: 1, created: 1 });
      expect(hook.seen).toHaveLength(2);
      const [first, second] = hook.seen;
      expect(second!.raw).toBe(first!.raw);
      expect(second!.headers['x-flamebill-idempotency-key']).toBe(first!.headers['x-flamebill-idempotency-key']);
      expect(second!.headers['x-flamebill-signature']).toBe(
        `sha256=${createHmac('sha256', 'webhook-secret').update(second!.raw).digest('hex')}`,
      );
      expect(JSON.parse(second!.raw)).toMatchObject({ action: 'opened', project: 'perf-channel', ticket: fingerprint });
      expect(JSON.stringify(hook.seen)).not.toContain('webhook-secret');
    } finally {
      await hook.close();
    }
  });

  it('Jira Cloud: the description is ADF with profile text as it is, dedup by an exact label, close and reopen by transitions', async () => {
    const issues: Array<{
      key: string;
      fields: { summary: string; labels: string[]; description: unknown };
      status: string;
      comments: unknown[];
      attachments: Array<{ id: string; filename: string; mimeType: string }>;
    }> = [];
    const uploads: Recorded[] = [];
    const auth = `Basic ${Buffer.from('bot@acme.test:jira-token').toString('base64')}`;
    // As https://developer.atlassian.com/cloud/jira/platform/rest/v3/ answers: 201 {id, key, self}; 400 {errorMessages, errors}.
    const jira = await server((r): Answer => {
      if (r.headers.authorization !== auth)
        return { status: 401, body: { errorMessages: ['You are not authenticated.'] } };
      const json = String(r.headers['content-type']).startsWith('application/json');
      const input = (r.raw && json ? JSON.parse(r.raw) : {}) as {
        jql?: string;
        fields?: { summary?: string; labels: string[]; description: unknown };
        body?: unknown;
        transition?: { id: string };
      };
      if (r.method === 'POST' && r.path === '/rest/api/3/search/jql') {
        const label = /labels = "([^"]+)"/.exec(String(input.jql))?.[1];
        return {
          status: 200,
          body: {
            issues: issues
              .filter((i) => i.fields.labels.includes(label!))
              .map((i) => ({ key: i.key, fields: { labels: i.fields.labels } })),
          },
        };
      }
      if (r.method === 'POST' && r.path === '/rest/api/3/issue') {
        if (!input.fields?.summary)
          return {
            status: 400,
            body: { errorMessages: [], errors: { summary: 'You must specify a summary of the issue.' } },
          };
        const key = `SHOP-${issues.length + 1}`;
        issues.push({
          key,
          fields: { summary: input.fields.summary, labels: input.fields.labels, description: input.fields.description },
          status: 'To Do',
          comments: [],
          attachments: [],
        });
        return {
          status: 201,
          body: { id: String(10000 + issues.length), key, self: `${jira.url}/rest/api/3/issue/${key}` },
        };
      }
      // https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/: multipart with a
      // `file` part, refused without `X-Atlassian-Token: no-check` (403, XSRF check); 200 with the new attachments.
      const a = /^\/rest\/api\/3\/issue\/([A-Z]+-\d+)(\?fields=attachment|\/attachments)$/.exec(r.path);
      const target = a ? issues.find((i) => i.key === a[1]) : undefined;
      if (a && target && r.method === 'GET')
        return { status: 200, body: { key: target.key, fields: { attachment: target.attachments } } };
      if (a && target && r.method === 'POST') {
        if (r.headers['x-atlassian-token'] !== 'no-check') return { status: 403, body: 'XSRF check failed' };
        if (!String(r.headers['content-type']).startsWith('multipart/form-data'))
          return { status: 415, body: { errorMessages: ['Unsupported Media Type'] } };
        uploads.push(r);
        // The part's name as the Content-Disposition header carries it (the test parses the whole body below).
        const filename = /filename="([^"]+)"/.exec(r.raw)?.[1] ?? '';
        const added = { id: String(10000 + uploads.length), filename, mimeType: 'image/svg+xml' };
        target.attachments.push(added);
        return { status: 200, body: [added] };
      }
      const m = /^\/rest\/api\/3\/issue\/([A-Z]+-\d+)\/(comment|transitions)$/.exec(r.path);
      const issue = m ? issues.find((i) => i.key === m[1]) : undefined;
      if (!m || !issue)
        return {
          status: 404,
          body: { errorMessages: ['Issue does not exist or you do not have permission to see it.'] },
        };
      if (m[2] === 'comment') {
        issue.comments.push(input.body);
        return { status: 201, body: { id: '1' } };
      }
      if (r.method === 'GET')
        return {
          status: 200,
          body: {
            transitions: [
              { id: '11', name: 'To Do', to: { statusCategory: { key: 'new' } } },
              { id: '31', name: 'Done', to: { statusCategory: { key: 'done' } } },
            ],
          },
        };
      issue.status = input.transition?.id === '31' ? 'Done' : 'To Do';
      return { status: 204, body: {} };
    });
    try {
      app = await startTestApp({
        settings: {
          paths: { catalogDir: await catalogDir('jira-shop', { 'jira/project-key': 'SHOP' }) },
          // Folded inline: a second application's fold-worker pool in one test process has crashed the process here.
          ingest: { workers: 0 },
          regressions: {
            trackers: {
              jira: { url: jira.url, userEnv: 'FLAMEBILL_TEST_JIRA_USER', tokenEnv: 'FLAMEBILL_TEST_JIRA_TOKEN' },
            },
            delivery: { backoffMs: 10 },
          },
        },
      });
      const delivery = app.app.get(TicketDeliveryService);
      await storeTrees(app, 'jira-shop');
      const fingerprint = await queueFinding(db, 'jira-shop');
      expect((await delivery.deliver()).counts).toMatchObject({ sent: 1, created: 1 });
      expect(issues).toHaveLength(1);
      // The graph is attached to the created issue: one multipart `file` part, the SVG.
      const filename = `flamebill-diff-${fingerprint.slice(0, 16)}.svg`;
      expect(issues[0]!.attachments.map((x) => x.filename)).toEqual([filename]);
      const part = (await formOf(uploads[0]!)).get('file') as File;
      expect(part.name).toBe(filename);
      expect(part.type).toBe('image/svg+xml');
      expect(await part.text()).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg /);
      expect(uploads[0]!.path).toBe('/rest/api/3/issue/SHOP-1/attachments');
      expect(JSON.stringify(issues[0]!.fields.description)).toContain(
        `Differential flame graph: attached (${filename})`,
      );
      expect(issues[0]!.fields.labels).toEqual(['flamebill-regression', `flamebill-fp-${fingerprint}`]);
      const adf = JSON.stringify(issues[0]!.fields.description);
      expect(issues[0]!.fields.description).toMatchObject({ type: 'doc', version: 1 });
      expect(adf).toContain('"type":"bulletList"');
      expect(adf).toContain('Function: main.validateEmail, cum');
      expect(adf).not.toContain('&#');
      expect(adf).toContain(`flamebill-fingerprint:${fingerprint}`);
      // A lost record: the exact label finds the issue again.
      await db.query(`DELETE FROM regression_tickets`);
      await queueFinding(db, 'jira-shop', 'resolved');
      expect((await delivery.deliver()).counts).toMatchObject({ sent: 1, adopted: 1, created: 0 });
      expect(issues[0]!.status).toBe('Done');
      await queueFinding(db, 'jira-shop', 'reopened');
      await delivery.deliver();
      expect(issues[0]!.status).toBe('To Do');
      expect(issues[0]!.comments).toHaveLength(2);
      expect(issues).toHaveLength(1);
      // A delivery that died between the creation and the attachment: the retried `opened` row adopts the issue and
      // attaches the graph once; a second retry finds it there and sends nothing.
      issues[0]!.attachments.length = 0;
      await db.query(`DELETE FROM regression_tickets`);
      await queueFinding(db, 'jira-shop', 'opened');
      expect((await delivery.deliver()).counts).toMatchObject({ sent: 1, adopted: 1, created: 0 });
      await queueFinding(db, 'jira-shop', 'opened');
      expect((await delivery.deliver()).counts).toMatchObject({ sent: 1, adopted: 0, created: 0 });
      expect(issues[0]!.attachments.map((x) => x.filename)).toEqual([filename]);
      expect(uploads).toHaveLength(2);
      expect(issues).toHaveLength(1);
    } finally {
      await jira.close();
    }
  });

  it('GitLab: the flame graph is uploaded first and the description shows it by the markdown GitLab answers', async () => {
    // As https://docs.gitlab.com/api/project_markdown_uploads/ answers: 201 {id, alt, url, full_path, markdown}; the
    // file is the multipart part `file`; anything else is 400 "file is missing".
    const gitlab = await server((r): Answer => {
      if (r.headers['private-token'] !== 'glpat-test') return { status: 401, body: { message: '401 Unauthorized' } };
      if (r.method === 'GET') return { status: 200, body: [], headers: { 'x-next-page': '' } };
      if (r.method === 'POST' && r.path === '/api/v4/projects/acme%2Fshop/uploads') {
        const name = /name="file"; filename="([^"]+)"/.exec(r.raw)?.[1];
        if (!String(r.headers['content-type']).startsWith('multipart/form-data') || !name)
          return { status: 400, body: { error: 'file is missing' } };
        const url = `/uploads/66dbcd21ec5d24ed6ea225176098d52b/${name}`;
        return {
          status: 201,
          body: {
            id: 5,
            alt: name.replace(/\.svg$/, ''),
            url,
            full_path: `/-/project/1234${url}`,
            markdown: `![${name.replace(/\.svg$/, '')}](${url})`,
          },
        };
      }
      if (r.method === 'POST' && r.path === '/api/v4/projects/acme%2Fshop/issues')
        return { status: 201, body: { iid: 8, web_url: 'https://gitlab.com/acme/shop/-/issues/8' } };
      return { status: 404, body: { message: '404 Not found' } };
    });
    try {
      app = await startTestApp({
        settings: {
          paths: { catalogDir: await catalogDir('gl-graph', { 'gitlab.com/project-slug': 'acme/shop' }) },
          // Folded inline: a second application's fold-worker pool in one test process has crashed the process here.
          ingest: { workers: 0 },
          regressions: {
            dashboardUrl: 'https://flamebill.acme.test/regressions/{fingerprint}',
            trackers: { gitlab: { url: `${gitlab.url}/api/v4`, tokenEnv: 'FLAMEBILL_TEST_GITLAB_TOKEN' } },
            delivery: { backoffMs: 10 },
          },
        },
      });
      await storeTrees(app, 'gl-graph');
      const fingerprint = await queueFinding(db, 'gl-graph');
      expect((await app.app.get(TicketDeliveryService).deliver()).counts).toMatchObject({ sent: 1, created: 1 });
      expect(gitlab.seen.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
        'GET /api/v4/projects/acme%2Fshop/issues',
        'POST /api/v4/projects/acme%2Fshop/uploads',
        'POST /api/v4/projects/acme%2Fshop/issues',
      ]);
      const filename = `flamebill-diff-${fingerprint.slice(0, 16)}.svg`;
      const part = (await formOf(gitlab.seen[1]!)).get('file') as File;
      expect(part.name).toBe(filename);
      expect(part.type).toBe('image/svg+xml');
      expect(await part.text()).toContain(
        '<title>Differential flame graph: main.validateEmail (cum) in gl-graph</title>',
      );
      const description = (JSON.parse(gitlab.seen[2]!.raw) as { description: string }).description;
      expect(description).toContain(
        `Differential flame graph: attached (${filename}); on the dashboard: https://flamebill.acme.test/regressions/${fingerprint}\n\n![${filename.replace(/\.svg$/, '')}](/uploads/66dbcd21ec5d24ed6ea225176098d52b/${filename})\n`,
      );
      expect(description.trimEnd().endsWith(`<!-- flamebill-fingerprint:${fingerprint} -->`)).toBe(true);
    } finally {
      await gitlab.close();
    }
  });

  it('GitLab: an upload refused (413) files the issue without the graph; an upload that fails (502) files nothing yet', async () => {
    let upload = { status: 502, body: { message: '502 Bad Gateway' } } as Answer;
    const created: Recorded[] = [];
    const gitlab = await server((r): Answer => {
      if (r.method === 'GET') return { status: 200, body: [], headers: { 'x-next-page': '' } };
      if (r.method === 'POST' && r.path === '/api/v4/projects/acme%2Fshop/uploads') return upload;
      if (r.method === 'POST' && r.path === '/api/v4/projects/acme%2Fshop/issues') {
        created.push(r);
        return { status: 201, body: { iid: 9, web_url: 'https://gitlab.com/acme/shop/-/issues/9' } };
      }
      return { status: 404, body: { message: '404 Not found' } };
    });
    try {
      app = await startTestApp({
        settings: {
          paths: { catalogDir: await catalogDir('gl-refused', { 'gitlab.com/project-slug': 'acme/shop' }) },
          ingest: { workers: 0 },
          regressions: {
            trackers: { gitlab: { url: `${gitlab.url}/api/v4`, tokenEnv: 'FLAMEBILL_TEST_GITLAB_TOKEN' } },
            delivery: { attempts: 2, backoffMs: 10 },
          },
        },
      });
      await storeTrees(app, 'gl-refused');
      await queueFinding(db, 'gl-refused');
      const delivery = app.app.get(TicketDeliveryService);
      const t0 = new Date();
      const down = await delivery.deliver({ now: () => t0 });
      expect(down.counts).toMatchObject({ failed: 1, created: 0, pending: 1 });
      expect(down.errors[0]).toMatch(/^gitlab: POST \/api\/v4\/projects\/acme%2Fshop\/uploads answered 502/);
      expect(created).toEqual([]);
      upload = { status: 413, body: { message: '413 Request Entity Too Large' } };
      const later = await delivery.deliver({ now: () => new Date(t0.getTime() + 61_000) });
      expect(later.counts).toMatchObject({ sent: 1, created: 1, failed: 0 });
      expect(created).toHaveLength(1);
      const description = (JSON.parse(created[0]!.raw) as { description: string }).description;
      expect(description).not.toContain('Differential flame graph');
      expect(description).not.toContain('/uploads/');
    } finally {
      await gitlab.close();
    }
  });

  it('webhook: the opened message carries the flame graph inline (base64), the same bytes on a retry', async () => {
    let fail = 1;
    const hook = await server((): Answer =>
      fail-- > 0 ? { status: 503, body: { error: 'unavailable' } } : { status: 204, body: {} },
    );
    try {
      app = await startTestApp({
        settings: {
          paths: { catalogDir: await catalogDir('hook-graph', { 'flamebill.io/webhook': 'perf-channel' }) },
          // Folded inline: a second application's fold-worker pool in one test process has crashed the process here.
          ingest: { workers: 0 },
          regressions: {
            trackers: { webhook: { url: `${hook.url}/flamebill`, secretEnv: 'FLAMEBILL_TEST_WEBHOOK_SECRET' } },
            delivery: { backoffMs: 10 },
          },
        },
      });
      await storeTrees(app, 'hook-graph');
      const fingerprint = await queueFinding(db, 'hook-graph');
      expect((await app.app.get(TicketDeliveryService).deliver()).counts).toMatchObject({ sent: 1, created: 1 });
      expect(hook.seen).toHaveLength(2);
      expect(hook.seen[1]!.raw).toBe(hook.seen[0]!.raw);
      const message = JSON.parse(hook.seen[1]!.raw) as {
        body: string;
        attachments: Array<{ filename: string; contentType: string; encoding: string; data: string }>;
      };
      expect(message.attachments).toHaveLength(1);
      const [file] = message.attachments;
      expect(file).toMatchObject({
        filename: `flamebill-diff-${fingerprint.slice(0, 16)}.svg`,
        contentType: 'image/svg+xml',
        encoding: 'base64',
      });
      expect(Buffer.from(file!.data, 'base64').toString()).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg /);
      expect(message.body).toContain(`Differential flame graph: attached (${file!.filename})`);
    } finally {
      await hook.close();
    }
  });
});
