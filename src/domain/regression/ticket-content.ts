/** The figures of a finding a ticket shows (bigints as decimal strings, as in the outbox). */
export interface TicketFinding {
  readonly fingerprint: string;
  readonly service: string;
  readonly function: string;
  readonly sampleType: string;
  readonly kind: 'flat' | 'cum';
  readonly team: string | null;
  readonly baseShare: number;
  readonly currentShare: number;
  readonly cpuNanosecondsDelta: string;
  readonly impactPerYearMicros: string | null;
  readonly pValue: number;
  readonly baseVersion: string | null;
  readonly currentVersion: string | null;
  readonly baseFrom: string;
  readonly baseTo: string;
  readonly currentFrom: string;
  readonly currentTo: string;
  readonly topCallers: readonly { readonly function: string; readonly cpuNanosecondsDelta: string }[];
}

export type TicketEvent = 'opened' | 'grew' | 'resolved' | 'reopened';

export interface TicketOptions {
  readonly currency: string;
  /** Link of the differential flame graph; `{service}` and `{fingerprint}` are replaced. */
  readonly dashboardUrl?: string;
  /** How the tracker hides the marker: an HTML comment (Markdown trackers) or a last line (Redmine's Textile). */
  readonly marker: 'html-comment' | 'last-line';
  /**
   * How profile text is made safe: character references for trackers that render markup (default), or none for a
   * tracker whose body is structured data that is never parsed as markup (Jira's ADF text nodes).
   */
  readonly escape?: 'entities' | 'none';
  /**
   * The differential flame graph goes with this message as a file (`filename`, flamebill's own name: written as it
   * is); `embed`: the tracker's markup that shows it in the body (GitLab's upload markdown), put on a line of its own.
   */
  readonly graph?: { readonly filename: string; readonly embed?: string };
}

/** The marker every ticket body carries: the only key a ticket is found by (never its title). */
export function fingerprintMarker(fingerprint: string): string {
  return `flamebill-fingerprint:${fingerprint}`;
}

/**
 * Escapes text that came from profiles (function and service names can hold any character, markup included) for a
 * tracker body: every character but letters, digits and spaces becomes a numeric character reference, which
 * Markdown (GitHub, GitLab) and Textile (Redmine) render as the character and never read as markup; control
 * characters become U+FFFD.
 */
export function escapeBody(text: string): string {
  return escapeEntities(text);
}

function escapeEntities(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) out += '&#65533;';
    else if (/[A-Za-z0-9 ]/.test(ch)) out += ch;
    else out += `&#${code};`;
  }
  return out;
}

/** A title is plain text in every tracker: control characters out, at most 240 characters. */
export function escapeTitle(text: string): string {
  const clean = [...text].map((ch) => (ch.codePointAt(0)! < 0x20 || ch === '\u007f' ? '\uFFFD' : ch)).join('');
  return clean.length > 240 ? `${clean.slice(0, 239)}…` : clean;
}

/** Micro-units as a decimal with two places and thousands separators (exact bigint arithmetic, rounded half up). */
export function formatMoney(micros: string, currency: string): string {
  const v = BigInt(micros);
  const sign = v < 0n ? '-' : '';
  const cents = ((v < 0n ? -v : v) + 5_000n) / 10_000n;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${whole}.${String(cents % 100n).padStart(2, '0')} ${currency}`;
}

function cpuSeconds(ns: string): string {
  const v = BigInt(ns);
  return `${v / 1_000_000_000n}.${String((v < 0n ? -v : v) % 1_000_000_000n)
    .padStart(9, '0')
    .slice(0, 2)}`;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

/** Title and body of the message for one outbox event of a finding. */
export function ticketContent(
  event: TicketEvent,
  f: TicketFinding,
  options: TicketOptions,
): { title: string; body: string } {
  const escapeBody = options.escape === 'none' ? (t: string) => escapeTitle(t) : escapeEntities;
  const what = `${f.function} (${f.kind})`;
  const title = escapeTitle(`CPU regression in ${f.service}: ${what} ${pct(f.baseShare)} → ${pct(f.currentShare)}`);
  const money =
    f.impactPerYearMicros === null
      ? 'n/a'
      : `${formatMoney(f.impactPerYearMicros, options.currency)} a year at the current price`;
  const lead: Record<TicketEvent, string> = {
    opened: 'flamebill found a CPU regression.',
    grew: 'This regression grew since the last message.',
    resolved: 'The latest scan no longer shows this regression: resolved.',
    reopened: 'This regression is back: reopened.',
  };
  const versions =
    f.baseVersion || f.currentVersion
      ? `${escapeBody(f.baseVersion ?? '?')} → ${escapeBody(f.currentVersion ?? '?')}`
      : 'windows (no version label change)';
  const lines = [
    lead[event],
    '',
    `- Service: ${escapeBody(f.service)}${f.team ? ` (team ${escapeBody(f.team)})` : ''}`,
    `- Function: ${escapeBody(f.function)}, ${f.kind === 'flat' ? 'flat (its own code)' : 'cum (with its callees)'}`,
    `- Share of the service's ${escapeBody(f.sampleType)}: ${pct(f.baseShare)} → ${pct(f.currentShare)} (p = ${f.pValue.toExponential(1)}, Holm-adjusted)`,
    `- Extra CPU: ${cpuSeconds(f.cpuNanosecondsDelta)} CPU-seconds over the current window`,
    `- Cost: ${money}`,
    `- Since: baseline ${f.baseFrom} → ${f.baseTo}, current ${f.currentFrom} → ${f.currentTo}; versions ${versions}`,
  ];
  if (f.topCallers.length > 0) {
    lines.push('', 'Top callers (extra CPU-seconds through each):');
    for (const c of f.topCallers) lines.push(`- ${escapeBody(c.function)}: ${cpuSeconds(c.cpuNanosecondsDelta)}`);
  }
  const url = options.dashboardUrl
    ?.replace('{service}', encodeURIComponent(f.service))
    .replace('{fingerprint}', f.fingerprint);
  if (options.graph) {
    lines.push(
      '',
      `Differential flame graph: attached (${options.graph.filename})${url ? `; on the dashboard: ${url}` : ''}`,
    );
    if (options.graph.embed) lines.push('', options.graph.embed);
  } else if (url) lines.push('', `Differential flame graph: ${url}`);
  lines.push('', 'Reproduce: export both sides as pprof and run `flamebill diff BASE.pb.gz CURRENT.pb.gz`.');
  const marker = fingerprintMarker(f.fingerprint);
  lines.push('', options.marker === 'html-comment' ? `<!-- ${marker} -->` : marker);
  return { title, body: lines.join('\n') };
}
