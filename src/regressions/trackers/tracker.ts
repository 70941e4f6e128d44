/** A ticket as the tracker knows it. */
export interface RemoteTicket {
  readonly id: string;
  readonly url: string;
}

/** What a tracker adapter does; each call is one logical operation (one or a few HTTP requests). */
export interface Tracker {
  readonly name: string;
  /** How the body hides the fingerprint marker (Markdown trackers: an HTML comment). */
  readonly marker: 'html-comment' | 'last-line';
  /** Bodies of trackers whose text is never parsed as markup (Jira's ADF) need no escaping. */
  readonly escape?: 'entities' | 'none';
  /** The ticket whose body carries `marker`, open or closed, or null: the dedup before every creation. */
  findByMarker(project: string, marker: string): Promise<RemoteTicket | null>;
  create(project: string, title: string, body: string): Promise<RemoteTicket>;
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
