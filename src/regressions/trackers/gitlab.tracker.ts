import {
  expectOk,
  trackerFetch,
  TrackerError,
  type RemoteTicket,
  type TicketAttachment,
  type Tracker,
  type UploadedFile,
} from './tracker';

/** Label every flamebill issue carries: the list the marker is looked up in. */
export const GITLAB_LABEL = 'flamebill-regression';

/**
 * GitLab's REST API v4 (https://docs.gitlab.com/api/issues/, /api/notes/, /api/rest/#pagination,
 * /security/rate_limits): `POST /projects/:id/issues` (201, `iid` and `web_url`; `:id` is the URL-encoded
 * `group/project` path), `PUT /projects/:id/issues/:iid` with `state_event: close|reopen`, `POST .../notes` (201). The
 * dedup lists issues with flamebill's label in every state (`state=all`, pages followed by `x-next-page`). 429 (with
 * `Retry-After`) and 5xx are retried; the token goes in `PRIVATE-TOKEN`. The flame graph is uploaded first
 * (https://docs.gitlab.com/api/project_markdown_uploads/: `POST /projects/:id/uploads`, multipart field `file`, 201
 * with `url` and `markdown`) and the issue's description shows it by that markdown; an upload whose issue is never
 * created is an unreferenced project upload.
 */
export class GitLabTracker implements Tracker {
  readonly name = 'gitlab';
  readonly marker = 'html-comment' as const;
  readonly attachments = 'upload' as const;

  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<Response> {
    const url = `${this.apiUrl.replace(/\/$/, '')}${path}`;
    const form = body instanceof FormData;
    const res = await trackerFetch(
      'gitlab',
      url,
      {
        method,
        // fetch writes a multipart body's Content-Type itself (with its boundary).
        headers: {
          'PRIVATE-TOKEN': this.token,
          ...(form ? {} : { 'Content-Type': 'application/json' }),
          Accept: 'application/json',
        },
        ...(body === undefined ? {} : { body: form ? body : JSON.stringify(body) }),
      },
      this.timeoutMs,
    );
    await expectOk('gitlab', method, url, res);
    return res;
  }

  private project(project: string): string {
    return `/projects/${encodeURIComponent(project)}`;
  }

  async findByMarker(project: string, marker: string): Promise<RemoteTicket | null> {
    let page: string | null = '1';
    for (let n = 0; page && n < 50; n++) {
      const res = await this.call(
        'GET',
        `${this.project(project)}/issues?${new URLSearchParams({ labels: GITLAB_LABEL, state: 'all', per_page: '100', page })}`,
      );
      const issues = (await res.json()) as Array<{ iid: number; web_url: string; description?: string | null }>;
      const hit = issues.find((i) => (i.description ?? '').includes(marker));
      if (hit) return { id: String(hit.iid), url: hit.web_url };
      page = res.headers.get('x-next-page') || null;
    }
    return null;
  }

  async upload(project: string, file: TicketAttachment): Promise<UploadedFile> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(file.bytes)], { type: file.contentType }), file.filename);
    const res = await this.call('POST', `${this.project(project)}/uploads`, form);
    const json = (await res.json()) as { url?: string; markdown?: string };
    if (!json.url || !json.markdown)
      throw new TrackerError('gitlab: upload answered without url or markdown', res.status, false);
    return { filename: file.filename, contentType: file.contentType, token: json.url, markdown: json.markdown };
  }

  /** The uploaded graph is already in `body` (its markdown): the creation names nothing else. */
  async create(project: string, title: string, body: string): Promise<RemoteTicket> {
    const res = await this.call('POST', `${this.project(project)}/issues`, {
      title,
      description: body,
      labels: GITLAB_LABEL,
    });
    const json = (await res.json()) as { iid?: number; web_url?: string };
    if (!json.iid || !json.web_url)
      throw new TrackerError('gitlab: issue created without iid or web_url', res.status, false);
    return { id: String(json.iid), url: json.web_url };
  }

  /** `group/project` and iid of a ticket, from its web_url (`https://HOST/group/project/-/issues/N`). */
  private issuePath(ticket: RemoteTicket): string {
    const m = /^https?:\/\/[^/]+\/(.+)\/-\/issues\/(\d+)$/.exec(ticket.url);
    if (!m) throw new TrackerError(`gitlab: cannot read the project from ${ticket.url}`, null, false);
    return `${this.project(m[1]!)}/issues/${m[2]}`;
  }

  async comment(ticket: RemoteTicket, body: string): Promise<void> {
    await this.call('POST', `${this.issuePath(ticket)}/notes`, { body });
  }

  async close(ticket: RemoteTicket, body: string): Promise<void> {
    await this.comment(ticket, body);
    await this.call('PUT', this.issuePath(ticket), { state_event: 'close' });
  }

  async reopen(ticket: RemoteTicket, body: string): Promise<void> {
    await this.call('PUT', this.issuePath(ticket), { state_event: 'reopen' });
    await this.comment(ticket, body);
  }
}
