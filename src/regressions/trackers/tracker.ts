/** A ticket as the tracker knows it. */
export interface RemoteTicket {
  readonly id: string;
  readonly url: string;
}

/** A file for a ticket: the differential flame graph. */
export interface TicketAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly bytes: Buffer;
}

/** A file uploaded ahead of the ticket that names it (Redmine's upload token, GitLab's markdown reference). */
export interface UploadedFile {
  readonly filename: string;
  readonly contentType: string;
  /** What the creation names the upload by (Redmine's token; GitLab's upload URL). */
  readonly token: string;
  /** Markup that shows the file in the body, when the tracker links uploads from there (GitLab). */
  readonly markdown?: string;
}

/**
 * How a tracker takes the flame graph: `upload` before the creation, which names the upload (one request creates the
 * ticket with its file, so a retried creation cannot attach twice); `attach` to the created ticket (idempotent: a
 * file of that name already there is not sent again); `inline` in the message itself; `none` (a link at most).
 */
export type AttachmentMode = 'upload' | 'attach' | 'inline' | 'none';

/** What a tracker adapter does; each call is one logical operation (one or a few HTTP requests). */
export interface Tracker {
  readonly name: string;
  /** How the body hides the fingerprint marker (Markdown trackers: an HTML comment). */
  readonly marker: 'html-comment' | 'last-line';
  /** Bodies of trackers whose text is never parsed as markup (Jira's ADF) need no escaping. */
  readonly escape?: 'entities' | 'none';
  readonly attachments: AttachmentMode;
  /** The ticket whose body carries `marker`, open or closed, or null: the dedup before every creation. */
  findByMarker(project: string, marker: string): Promise<RemoteTicket | null>;
  /** `file`: the graph, with its upload when the mode is `upload` (null when the upload was refused). */
  create(
    project: string,
    title: string,
    body: string,
    file?: { readonly attachment: TicketAttachment; readonly uploaded: UploadedFile | null },
  ): Promise<RemoteTicket>;
  /** Mode `upload`: sends the file ahead of the creation. */
  upload?(project: string, file: TicketAttachment): Promise<UploadedFile>;
  /** Mode `attach`: adds the file to the ticket unless one of that name is already there. */
  attach?(ticket: RemoteTicket, file: TicketAttachment): Promise<void>;
  comment(ticket: RemoteTicket, body: string): Promise<void>;
  close(ticket: RemoteTicket, body: string): Promise<void>;
  reopen(ticket: RemoteTicket, body: string): Promise<void>;
}

/**
 * A tracker's refusal or failure. `retryable`: 5xx, 429, timeouts and network errors (tried again with backoff);
 * otherwise a 4xx that needs a fix (token, project, a required field), whose message is the tracker's own. Messages
 * never contain credentials: adapters send them in headers and never echo headers.
 */
export class TrackerError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'TrackerError';
  }
}

/** fetch with a timeout; network errors and timeouts become retryable TrackerErrors naming the tracker. */
export async function trackerFetch(
  tracker: string,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err: unknown) {
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new TrackerError(
      `${tracker}: ${init.method ?? 'GET'} ${new URL(url).pathname} failed: ${reason}`,
      null,
      true,
    );
  }
}

/** Throws a TrackerError for a non-2xx answer, with the tracker's own message (the body, shortened). */
export async function expectOk(tracker: string, method: string, url: string, res: Response): Promise<void> {
  if (res.ok) return;
  const text = (await res.text().catch(() => '')).slice(0, 500);
  const retryable = res.status >= 500 || res.status === 429;
  throw new TrackerError(
    `${tracker}: ${method} ${new URL(url).pathname} answered ${res.status}: ${text || res.statusText}`,
    res.status,
    retryable,
  );
}
