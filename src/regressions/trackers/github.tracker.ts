import { expectOk, trackerFetch, TrackerError, type RemoteTicket, type Tracker } from './tracker';

/** Label every flamebill issue carries: the list the marker is looked up in. */
export const GITHUB_LABEL = 'flamebill-regression';

/**
 * GitHub's REST API (https://docs.github.com/en/rest/issues/issues, .../issues/comments, "Rate limits for the REST
 * API"): `POST /repos/{owner}/{repo}/issues` (201, `number` and `html_url`), `PATCH .../issues/{n}` with `state`
 * (and `state_reason`), `POST .../issues/{n}/comments` (201). The dedup lists the repository's issues with
 * flamebill's label in every state (`GET .../issues?state=all&labels=...`, paged by the `Link` header) rather than
 * the search API, whose index lags behind a creation. A 403 or 429 with `x-ratelimit-remaining: 0` or
 * `retry-after` is a rate limit (retried later), any other 4xx a refusal. The API URL is configurable (GitHub
 * Enterprise: `https://HOST/api/v3`); the markdown body hides the marker in an HTML comment. GitHub's REST API has no
 * way to upload a file to an issue (the web UI's attachments are not part of it): the ticket links the dashboard's
 * regression page (`regressions.dashboardUrl`) instead of attaching the flame graph.
 */
export class GitHubTracker implements Tracker {
  readonly name = 'github';
  readonly marker = 'html-comment' as const;
  readonly attachments = 'none' as const;

  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {}

  private async call(method: string, pathOrUrl: string, body?: unknown): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.apiUrl.replace(/\/$/, '')}${pathOrUrl}`;
    const res = await trackerFetch(
      'github',
      url,
      {
        method,
        headers: {
          Authorization: `Bearer ${this.token}`,
          Accept: 'application/vnd.github+json',
          'X-GitHub-Api-Version': '2022-11-28',
          'Content-Type': 'application/json',
          'User-Agent': 'flamebill',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      this.timeoutMs,
    );
    if (
      (res.status === 403 || res.status === 429) &&
      (res.headers.get('x-ratelimit-remaining') === '0' || res.headers.has('retry-after'))
    ) {
      const reset = res.headers.get('x-ratelimit-reset');
      throw new TrackerError(
        `github: ${method} ${new URL(url).pathname} rate-limited (${res.status})${reset ? `, resets at ${new Date(Number(reset) * 1000).toISOString()}` : ''}`,
        res.status,
        true,
      );
    }
    await expectOk('github', method, url, res);
    return res;
  }

  private repo(project: string): string {
    if (!/^[\w.-]+\/[\w.-]+$/.test(project))
      throw new TrackerError(`github: project "${project}" is not owner/repo`, null, false);
    return `/repos/${project}`;
  }

  async findByMarker(project: string, marker: string): Promise<RemoteTicket | null> {
    let next: string | null =
      `${this.repo(project)}/issues?${new URLSearchParams({ state: 'all', labels: GITHUB_LABEL, per_page: '100' })}`;
    for (let page = 0; next && page < 50; page++) {
      const res = await this.call('GET', next);
      const issues = (await res.json()) as Array<{
        number: number;
        html_url: string;
        body?: string | null;
        pull_request?: unknown;
      }>;
      const hit = issues.find((i) => !i.pull_request && (i.body ?? '').includes(marker));
      if (hit) return { id: String(hit.number), url: hit.html_url };
      next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
    }
    return null;
  }

  async create(project: string, title: string, body: string): Promise<RemoteTicket> {
    const res = await this.call('POST', `${this.repo(project)}/issues`, { title, body, labels: [GITHUB_LABEL] });
    const json = (await res.json()) as { number?: number; html_url?: string };
    if (!json.number || !json.html_url)
      throw new TrackerError('github: issue created without number or html_url', res.status, false);
    return { id: String(json.number), url: json.html_url };
  }

  /** The repository of a ticket, from its html_url (`https://github.com/OWNER/REPO/issues/N`). */
  private issuePath(ticket: RemoteTicket): string {
    const m = /\/([^/]+)\/([^/]+)\/issues\/(\d+)$/.exec(ticket.url);
    if (!m) throw new TrackerError(`github: cannot read the repository from ${ticket.url}`, null, false);
    return `/repos/${m[1]}/${m[2]}/issues/${m[3]}`;
  }

  async comment(ticket: RemoteTicket, body: string): Promise<void> {
    await this.call('POST', `${this.issuePath(ticket)}/comments`, { body });
  }

  async close(ticket: RemoteTicket, body: string): Promise<void> {
    await this.comment(ticket, body);
    await this.call('PATCH', this.issuePath(ticket), { state: 'closed', state_reason: 'completed' });
  }

  async reopen(ticket: RemoteTicket, body: string): Promise<void> {
    await this.call('PATCH', this.issuePath(ticket), { state: 'open' });
    await this.comment(ticket, body);
  }
}
