import {
  expectOk,
  trackerFetch,
  TrackerError,
  type RemoteTicket,
  type TicketAttachment,
  type Tracker,
  type UploadedFile,
} from './tracker';

/**
 * Redmine's REST API (https://www.redmine.org/projects/redmine/wiki/Rest_Issues, Rest_Search, Rest_IssueStatuses):
 * `POST /issues.json` (201 with the issue), `PUT /issues/N.json` with `notes` and `status_id` (204),
 * `GET /search.json?q=...&issues=1` (open and closed issues, description included), `GET /issue_statuses.json`.
 * The key goes in `X-Redmine-API-Key`. Redmine's Textile shows HTML comments as text, so the marker is a last line.
 * Files (https://www.redmine.org/projects/redmine/wiki/Rest_api#Attaching-files): `POST /uploads.json?filename=...`
 * with the raw bytes as `application/octet-stream` (201 with `upload.token`), then the token in the issue's `uploads`:
 * the issue and its attachment are one creation. An upload whose issue is never created stays unattached; Redmine
 * prunes such files (`Attachment.prune`, after a day).
 */
export class RedmineTracker implements Tracker {
  readonly name = 'redmine';
  readonly marker = 'last-line' as const;
  readonly attachments = 'upload' as const;
  private statuses: Promise<{ closed: number; open: number }> | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly timeoutMs: number,
  ) {}

  private async call(method: string, path: string, body?: unknown, raw?: Buffer): Promise<Response> {
    const url = `${this.baseUrl.replace(/\/$/, '')}${path}`;
    const res = await trackerFetch(
      'redmine',
      url,
      {
        method,
        headers: {
          'X-Redmine-API-Key': this.apiKey,
          'Content-Type': raw ? 'application/octet-stream' : 'application/json',
          Accept: 'application/json',
        },
        ...(raw ? { body: raw } : body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      this.timeoutMs,
    );
    await expectOk('redmine', method, url, res);
    return res;
  }

  private ticket(id: number | string): RemoteTicket {
    return { id: String(id), url: `${this.baseUrl.replace(/\/$/, '')}/issues/${id}` };
  }

  async findByMarker(project: string, marker: string): Promise<RemoteTicket | null> {
    // Redmine's search finds nothing for a token with a colon: search the fingerprint, then check the whole marker.
    // (`titles_only` must be absent, not 0: any value restricts the search to titles.)
    const q = new URLSearchParams({
      q: marker.slice(marker.lastIndexOf(':') + 1),
      issues: '1',
      all_words: '1',
      limit: '25',
    });
    const res = await this.call('GET', `/projects/${encodeURIComponent(project)}/search.json?${q}`);
    const json = (await res.json()) as { results?: Array<{ id: number; type: string; description?: string }> };
    const hit = (json.results ?? []).find((r) => r.type.startsWith('issue') && (r.description ?? '').includes(marker));
    return hit ? this.ticket(hit.id) : null;
  }

  async upload(_project: string, file: TicketAttachment): Promise<UploadedFile> {
    const res = await this.call(
      'POST',
      `/uploads.json?${new URLSearchParams({ filename: file.filename })}`,
      undefined,
      file.bytes,
    );
    const json = (await res.json()) as { upload?: { token?: string } };
    if (!json.upload?.token)
      throw new TrackerError('redmine: POST /uploads.json answered without a token', res.status, false);
    return { filename: file.filename, contentType: file.contentType, token: json.upload.token };
  }

  async create(
    project: string,
    title: string,
    body: string,
    file?: { readonly uploaded: UploadedFile | null },
  ): Promise<RemoteTicket> {
    const uploaded = file?.uploaded;
    const res = await this.call('POST', '/issues.json', {
      issue: {
        project_id: project,
        subject: title,
        description: body,
        ...(uploaded
          ? { uploads: [{ token: uploaded.token, filename: uploaded.filename, content_type: uploaded.contentType }] }
          : {}),
      },
    });
    const json = (await res.json()) as { issue?: { id?: number } };
    if (!json.issue?.id)
      throw new TrackerError('redmine: POST /issues.json answered without an issue id', res.status, false);
    return this.ticket(json.issue.id);
  }

  async comment(ticket: RemoteTicket, body: string): Promise<void> {
    await this.call('PUT', `/issues/${ticket.id}.json`, { issue: { notes: body } });
  }

  async close(ticket: RemoteTicket, body: string): Promise<void> {
    await this.call('PUT', `/issues/${ticket.id}.json`, {
      issue: { notes: body, status_id: (await this.statusIds()).closed },
    });
  }

  async reopen(ticket: RemoteTicket, body: string): Promise<void> {
    await this.call('PUT', `/issues/${ticket.id}.json`, {
      issue: { notes: body, status_id: (await this.statusIds()).open },
    });
  }

  /** The first closed status named "Closed" (else the first closed one) and the first open one, read once. */
  private statusIds(): Promise<{ closed: number; open: number }> {
    this.statuses ??= (async () => {
      const res = await this.call('GET', '/issue_statuses.json');
      const list = ((await res.json()) as { issue_statuses: Array<{ id: number; name: string; is_closed?: boolean }> })
        .issue_statuses;
      const closed = list.find((s) => s.is_closed && s.name === 'Closed') ?? list.find((s) => s.is_closed);
      const open = list.find((s) => !s.is_closed);
      if (!closed || !open) throw new TrackerError('redmine: no closed or no open issue status', null, false);
      return { closed: closed.id, open: open.id };
    })().catch((err: unknown) => {
      this.statuses = null;
      throw err;
    });
    return this.statuses;
  }
}
