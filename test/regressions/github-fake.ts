import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface FakeIssue {
  number: number;
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  state_reason: string | null;
  comments: string[];
}

/**
 * A loopback server answering as GitHub's REST API does for the calls flamebill makes, modelled on the published
 * descriptions (https://docs.github.com/en/rest/issues/issues, /rest/issues/comments, /rest/using-the-rest-api/
 * rate-limits-for-the-rest-api): 201 with `number` and `html_url` on creation, 401 `Bad credentials`, 404 `Not
 * Found` for an unknown repository, 422 `Validation Failed` without a title, pages linked by a `Link: <...>;
 * rel="next"` header (pages of `pageSize`, smaller than GitHub's 100 so paging is exercised), and the primary rate
 * limit as 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`.
 */
export class GitHubFake {
  readonly repos = new Map<string, FakeIssue[]>();
  readonly seen: string[] = [];
  /** The next this-many requests answer as rate-limited. */
  rateLimited = 0;
  pageSize = 2;
  private server = http.createServer((req, res) => void this.handle(req, res));
  url = '';

  constructor(
    private readonly token: string,
    repos: string[],
  ) {
    for (const r of repos) this.repos.set(r, []);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res
      .writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '4999',
        ...headers,
      })
      .end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url!, this.url);
    this.seen.push(`${req.method} ${url.pathname}${url.search}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const input = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) : {};
    if (this.rateLimited > 0) {
      this.rateLimited--;
      return this.send(
        res,
        403,
        {
          message: 'API rate limit exceeded for user ID 1.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        },
        { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 60) },
      );
    }
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return this.send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const m = /^\/repos\/([^/]+\/[^/]+)\/issues(?:\/(\d+)(\/comments)?)?$/.exec(url.pathname);
    const issues = m ? this.repos.get(m[1]!) : undefined;
    if (!m || !issues)
      return this.send(res, 404, {
        message: 'Not Found',
        documentation_url: 'https://docs.github.com/rest/issues/issues',
      });
    const html = (n: number) => `https://github.com/${m[1]}/issues/${n}`;
    const view = (i: FakeIssue) => ({
      number: i.number,
      html_url: html(i.number),
      title: i.title,
      body: i.body,
      state: i.state,
      state_reason: i.state_reason,
      labels: i.labels.map((name) => ({ name })),
    });
    if (!m[2] && req.method === 'GET') {
      const state = url.searchParams.get('state') ?? 'open';
      const label = url.searchParams.get('labels');
      const list = issues
        .filter((i) => (state === 'all' || i.state === state) && (!label || i.labels.includes(label)))
        .sort((a, b) => b.number - a.number);
      const page = Number(url.searchParams.get('page') ?? '1');
      const slice = list.slice((page - 1) * this.pageSize, page * this.pageSize);
      const headers: Record<string, string> = {};
      if (page * this.pageSize < list.length) {
        const next = new URL(url);
        next.searchParams.set('page', String(page + 1));
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      return this.send(res, 200, slice.map(view), headers);
    }
    if (!m[2] && req.method === 'POST') {
      if (typeof input.title !== 'string' || input.title === '')
        return this.send(res, 422, {
          message: 'Validation Failed',
          errors: [{ resource: 'Issue', code: 'missing_field', field: 'title' }],
        });
      const issue: FakeIssue = {
        number: issues.length + 1,
        title: input.title,
        body: String(input.body ?? ''),
        labels: (input.labels as string[]) ?? [],
        state: 'open',
        state_reason: null,
        comments: [],
      };
      issues.push(issue);
      return this.send(res, 201, view(issue), { location: `${this.url}${url.pathname}/${issue.number}` });
    }
    const issue = issues.find((i) => i.number === Number(m[2]));
    if (!issue) return this.send(res, 404, { message: 'Not Found' });
    if (m[3] && req.method === 'POST') {
      issue.comments.push(String(input.body ?? ''));
      return this.send(res, 201, { id: issue.comments.length, body: input.body });
    }
    if (req.method === 'PATCH') {
      if (input.state === 'open' || input.state === 'closed') issue.state = input.state;
      issue.state_reason = input.state === 'closed' ? String(input.state_reason ?? 'completed') : 'reopened';
      return this.send(res, 200, view(issue));
    }
    return this.send(res, 404, { message: 'Not Found' });
  }
}
