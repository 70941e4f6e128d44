import { createHmac } from 'node:crypto';
import { expectOk, trackerFetch, type RemoteTicket, type TicketAttachment, type Tracker } from './tracker';

/**
 * A generic JSON webhook: every message is one `POST` of `{action, project, ticket, title, body}` with
 * `X-Flamebill-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>` (GitHub's webhook convention) and
 * `X-Flamebill-Idempotency-Key` (the hash of the body: a retried message carries the same key, so the receiver can
 * drop it). A webhook cannot be searched: the ticket is the fingerprint, and exactly-once rests on the receiver
 * honouring the key. The `opened` message carries the differential flame graph inline, as `attachments: [{filename,
 * contentType, encoding: "base64", data}]` (a receiver needs no second request, and cannot be asked for one).
 */
export class WebhookTracker implements Tracker {
  readonly name = 'webhook';
  readonly marker = 'last-line' as const;
  readonly attachments = 'inline' as const;

  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly timeoutMs: number,
  ) {}

  private async post(message: Record<string, unknown>): Promise<void> {
    const body = JSON.stringify(message);
    const signature = createHmac('sha256', this.secret).update(body).digest('hex');
    const key = createHmac('sha256', 'flamebill-idempotency').update(body).digest('hex');
    const res = await trackerFetch(
      'webhook',
      this.url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Flamebill-Signature': `sha256=${signature}`,
          'X-Flamebill-Idempotency-Key': key,
        },
        body,
      },
      this.timeoutMs,
    );
    await expectOk('webhook', 'POST', this.url, res);
  }

  async findByMarker(): Promise<RemoteTicket | null> {
    return null;
  }

  async create(
    project: string,
    title: string,
    body: string,
    file?: { readonly attachment: TicketAttachment },
  ): Promise<RemoteTicket> {
    const fingerprint = /flamebill-fingerprint:([0-9a-f]+)/.exec(body)?.[1] ?? '';
    const attachments = file
      ? [
          {
            filename: file.attachment.filename,
            contentType: file.attachment.contentType,
            encoding: 'base64',
            data: file.attachment.bytes.toString('base64'),
          },
        ]
      : [];
    await this.post({ action: 'opened', project, ticket: fingerprint, title, body, attachments });
    return { id: fingerprint, url: `${this.url}#${fingerprint}` };
  }

  async comment(ticket: RemoteTicket, body: string): Promise<void> {
    await this.post({ action: 'comment', ticket: ticket.id, body });
  }

  async close(ticket: RemoteTicket, body: string): Promise<void> {
    await this.post({ action: 'closed', ticket: ticket.id, body });
  }

  async reopen(ticket: RemoteTicket, body: string): Promise<void> {
    await this.post({ action: 'reopened', ticket: ticket.id, body });
  }
}
