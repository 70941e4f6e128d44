import {
  expectOk,
  trackerFetch,
  TrackerError,
  type RemoteTicket,
  type TicketAttachment,
  type Tracker,
} from './tracker';

export const JIRA_LABEL = 'flamebill-regression';

/** An Atlassian Document Format node (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/). */
type AdfNode = { type: string; text?: string; content?: AdfNode[]; attrs?: Record<string, unknown> };

/**
 * The ticket body (plain lines, `- ` items) as an ADF document: paragraphs and bullet lists of text nodes. Text nodes
 * are data, never parsed as markup, so profile names go in as they are.
 */
export function toAdf(body: string): AdfNode {
  const content: AdfNode[] = [];
  let list: AdfNode | null = null;
  for (const line of body.split('\n')) {
    if (line.startsWith('- ')) {
      list ??= { type: 'bulletList', content: [] };
      list.content!.push({
        type: 'listItem',
        content: [{ type: 'paragraph', content: [{ type: 'text', text: line.slice(2) }] }],
      });
      continue;
    }
    if (list) content.push(list);
    list = null;
    if (line !== '') content.push({ type: 'paragraph', content: [{ type: 'text', text: line }] });
  }
  if (list) content.push(list);
  return { type: 'doc', version: 1, content } as AdfNode;
}

/**
 * Jira Cloud's REST API v3 (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/,
 * -issue-search/, -issue-comments/): `POST /rest/api/3/issue` (201, `key`), descriptions and comments in ADF,
 * transitions by `GET`/`POST .../transitions` (close: a transition to the `done` status category; reopen: one out of
 * it), issue search by JQL (`POST /rest/api/3/search/jql`). Each issue carries the label `flamebill-fp-<fingerprint>`
 * besides the marker in its description, so the dedup is an exact JQL label match. Basic auth with the account's
 * e-mail and API token; 429 with `Retry-After` and 5xx are retried. Jira takes files only on an existing issue
 * (-issue-attachments/: `POST /rest/api/3/issue/{key}/attachments`, multipart field `file`, header
 * `X-Atlassian-Token: no-check`, 200 with the attachments): the graph is attached after the creation, unless the
 * issue already has a file of its name (`GET /rest/api/3/issue/{key}?fields=attachment`), so a delivery retried after
 * a crash between the two attaches it once.
 */
export class JiraTracker implements Tracker {
  readonly name = 'jira';
  readonly marker = 'last-line' as const;
  readonly escape = 'none' as const;
  readonly attachments = 'attach' as const;

  constructor(
    private readonly baseUrl: string,
    private readonly user: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<Response> {
    const url = `${this.baseUrl.replace(/\/$/, '')}${path}`;
    const form = body instanceof FormData;
    const res = await trackerFetch(
      'jira',
      url,
      {
        method,
        // fetch writes a multipart body's Content-Type itself (with its boundary); Jira refuses a multipart POST
        // without X-Atlassian-Token (XSRF check).
        headers: {
          Authorization: `Basic ${Buffer.from(`${this.user}:${this.token}`).toString('base64')}`,
          ...(form ? { 'X-Atlassian-Token': 'no-check' } : { 'Content-Type': 'application/json' }),
          Accept: 'application/json',
        },
        ...(body === undefined ? {} : { body: form ? body : JSON.stringify(body) }),
      },
      this.timeoutMs,
    );
    await expectOk('jira', method, url, res);
    return res;
  }

  private ticket(key: string): RemoteTicket {
    return { id: key, url: `${this.baseUrl.replace(/\/$/, '')}/browse/${key}` };
  }

  private static fingerprintOf(text: string): string {
    return /flamebill-fingerprint:([0-9a-f]+)/.exec(text)?.[1] ?? '';
  }

  async findByMarker(project: string, marker: string): Promise<RemoteTicket | null> {
    const fp = JiraTracker.fingerprintOf(marker);
    if (!/^[A-Z][A-Z0-9_]*$/.test(project))
      throw new TrackerError(`jira: "${project}" is not a project key`, null, false);
    const res = await this.call('POST', '/rest/api/3/search/jql', {
      jql: `project = ${project} AND labels = "flamebill-fp-${fp}"`,
      fields: ['labels'],
      maxResults: 5,
    });
    const json = (await res.json()) as { issues?: Array<{ key: string }> };
    const hit = json.issues?.[0];
    return hit ? this.ticket(hit.key) : null;
  }

  async create(project: string, title: string, body: string): Promise<RemoteTicket> {
    const fp = JiraTracker.fingerprintOf(body);
    const res = await this.call('POST', '/rest/api/3/issue', {
      fields: {
        project: { key: project },
        summary: title,
        issuetype: { name: 'Bug' },
        labels: [JIRA_LABEL, `flamebill-fp-${fp}`],
        description: toAdf(body),
      },
    });
    const json = (await res.json()) as { key?: string };
    if (!json.key) throw new TrackerError('jira: issue created without a key', res.status, false);
    return this.ticket(json.key);
  }

  async attach(ticket: RemoteTicket, file: TicketAttachment): Promise<void> {
    const issue = `/rest/api/3/issue/${encodeURIComponent(ticket.id)}`;
    const res = await this.call('GET', `${issue}?fields=attachment`);
    const json = (await res.json()) as { fields?: { attachment?: Array<{ filename?: string }> } };
    if ((json.fields?.attachment ?? []).some((a) => a.filename === file.filename)) return;
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(file.bytes)], { type: file.contentType }), file.filename);
    await this.call('POST', `${issue}/attachments`, form);
  }

  async comment(ticket: RemoteTicket, body: string): Promise<void> {
    await this.call('POST', `/rest/api/3/issue/${encodeURIComponent(ticket.id)}/comment`, { body: toAdf(body) });
  }

  private async transition(ticket: RemoteTicket, toDone: boolean): Promise<void> {
    const res = await this.call('GET', `/rest/api/3/issue/${encodeURIComponent(ticket.id)}/transitions`);
    const list = (
      (await res.json()) as {
        transitions: Array<{ id: string; name: string; to: { statusCategory?: { key: string } } }>;
      }
    ).transitions;
    const t = list.find((x) => (x.to.statusCategory?.key === 'done') === toDone);
    if (!t)
      throw new TrackerError(
        `jira: ${ticket.id} has no transition ${toDone ? 'to' : 'out of'} a done status`,
        null,
        false,
      );
    await this.call('POST', `/rest/api/3/issue/${encodeURIComponent(ticket.id)}/transitions`, {
      transition: { id: t.id },
    });
  }

  async close(ticket: RemoteTicket, body: string): Promise<void> {
    await this.comment(ticket, body);
    await this.transition(ticket, true);
  }

  async reopen(ticket: RemoteTicket, body: string): Promise<void> {
    await this.transition(ticket, false);
    await this.comment(ticket, body);
  }
}
