import type { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/query-rows';
import type { RegressionKind } from '../domain/regression';

type Db = DataSource | EntityManager;

export type FindingState = 'open' | 'resolved' | 'reopened';
export type OutboxEvent = 'opened' | 'grew' | 'resolved' | 'reopened';

/** A finding's figures, as a scan computed them. Money is micro-units of the currency; CPU exact nanoseconds. */
export interface FindingFigures {
  readonly fingerprint: string;
  readonly service: string;
  readonly function: string;
  readonly sampleType: string;
  readonly kind: RegressionKind;
  readonly team: string | null;
  readonly baseShare: number;
  readonly currentShare: number;
  readonly baseCpuNanoseconds: bigint;
  readonly currentCpuNanoseconds: bigint;
  readonly cpuNanosecondsDelta: bigint;
  readonly impactPerYearMicros: bigint | null;
  readonly pValue: number;
  readonly baseVersion: string | null;
  readonly currentVersion: string | null;
  readonly baseFrom: Date;
  readonly baseTo: Date;
  readonly currentFrom: Date;
  readonly currentTo: Date;
  readonly topCallers: readonly { readonly function: string; readonly cpuNanosecondsDelta: bigint }[];
}

/** A stored finding. */
export interface FindingRow extends FindingFigures {
  readonly state: FindingState;
  readonly notifiedDelta: bigint;
  readonly firstSeenAt: Date;
  readonly lastSeenAt: Date;
  readonly resolvedAt: Date | null;
}

/** One row of the outbox: the event and the finding's figures when it was written. */
export interface OutboxRow {
  readonly id: string;
  readonly fingerprint: string;
  readonly event: OutboxEvent;
  readonly payload: FindingJson;
  readonly attempts: number;
}

/** A finding as JSON (bigints as strings), the outbox payload. */
export type FindingJson = Record<string, unknown> & { readonly fingerprint: string; readonly service: string };

export interface TicketRecord {
  readonly fingerprint: string;
  readonly tracker: string;
  readonly project: string;
  readonly remoteId: string;
  readonly url: string;
}

/** A finding's ticket as listed: a filed one, or where a dry-run delivery would have filed it (no id, no URL). */
export type ListedTicket =
  | (TicketRecord & { readonly dryRun: false })
  | {
      readonly fingerprint: string;
      readonly tracker: string;
      readonly project: string;
      readonly remoteId: null;
      readonly url: null;
      readonly dryRun: true;
    };

interface FindingDbRow {
  fingerprint: string;
  service: string;
  function_name: string;
  sample_type: string;
  kind: RegressionKind;
  team: string | null;
  state: FindingState;
  base_share: number;
  current_share: number;
  base_cpu_nanoseconds: string;
  current_cpu_nanoseconds: string;
  cpu_nanoseconds_delta: string;
  impact_per_year_micros: string | null;
  p_value: number;
  base_version: string | null;
  current_version: string | null;
  base_from: Date;
  base_to: Date;
  current_from: Date;
  current_to: Date;
  top_callers: Array<{ function: string; cpuNanosecondsDelta: string }>;
  notified_delta: string;
  first_seen_at: Date;
  last_seen_at: Date;
  resolved_at: Date | null;
}

const FINDING_COLUMNS = `fingerprint, service, function_name, sample_type, kind, team, state, base_share, current_share,
  base_cpu_nanoseconds::text AS base_cpu_nanoseconds, current_cpu_nanoseconds::text AS current_cpu_nanoseconds,
  cpu_nanoseconds_delta::text AS cpu_nanoseconds_delta, impact_per_year_micros::text AS impact_per_year_micros, p_value,
  base_version, current_version, base_from, base_to, current_from, current_to, top_callers, notified_delta::text AS notified_delta,
  first_seen_at, last_seen_at, resolved_at`;

/**
 * Owns `regression_findings`, `regression_outbox` and `regression_tickets`. Every write that changes what a team
 * should be told takes the transaction (`tx`) the caller opened, so the finding and its outbox row commit together.
 */
export class RegressionRepository {
  constructor(private readonly db: DataSource) {}

  /** The stored findings of `services` (all states), for the scan to compare with. */
  async findingsOf(tx: Db, services: readonly string[]): Promise<FindingRow[]> {
    if (services.length === 0) return [];
    const rows = await queryRows<FindingDbRow>(
      tx,
      `SELECT ${FINDING_COLUMNS} FROM regression_findings WHERE service = ANY($1::text[]) FOR UPDATE`,
      [services],
    );
    return rows.map(toFinding);
  }

  /** Services with a finding that is not resolved (their scan may resolve it). */
  async servicesWithOpenFindings(db: Db = this.db): Promise<Set<string>> {
    const rows = await queryRows<{ service: string }>(
      db,
      `SELECT DISTINCT service FROM regression_findings WHERE state <> 'resolved'`,
    );
    return new Set(rows.map((r) => r.service));
  }

  /** Inserts or replaces a finding's figures and state. */
  async upsert(
    tx: Db,
    f: FindingFigures,
    state: FindingState,
    notifiedDelta: bigint,
    resolvedAt: Date | null,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO regression_findings (fingerprint, service, function_name, sample_type, kind, team, state, base_share, current_share,
         base_cpu_nanoseconds, current_cpu_nanoseconds, cpu_nanoseconds_delta, impact_per_year_micros, p_value, base_version, current_version,
         base_from, base_to, current_from, current_to, top_callers, notified_delta, resolved_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21::jsonb,$22,$23)
       ON CONFLICT (fingerprint) DO UPDATE SET team = EXCLUDED.team, state = EXCLUDED.state, base_share = EXCLUDED.base_share,
         current_share = EXCLUDED.current_share, base_cpu_nanoseconds = EXCLUDED.base_cpu_nanoseconds,
         current_cpu_nanoseconds = EXCLUDED.current_cpu_nanoseconds, cpu_nanoseconds_delta = EXCLUDED.cpu_nanoseconds_delta,
         impact_per_year_micros = EXCLUDED.impact_per_year_micros, p_value = EXCLUDED.p_value, base_version = EXCLUDED.base_version,
         current_version = EXCLUDED.current_version, base_from = EXCLUDED.base_from, base_to = EXCLUDED.base_to,
         current_from = EXCLUDED.current_from, current_to = EXCLUDED.current_to, top_callers = EXCLUDED.top_callers,
         notified_delta = EXCLUDED.notified_delta, last_seen_at = now(), resolved_at = EXCLUDED.resolved_at`,
      [
        f.fingerprint,
        f.service,
        f.function,
        f.sampleType,
        f.kind,
        f.team,
        state,
        f.baseShare,
        f.currentShare,
        f.baseCpuNanoseconds.toString(),
        f.currentCpuNanoseconds.toString(),
        f.cpuNanosecondsDelta.toString(),
        f.impactPerYearMicros?.toString() ?? null,
        f.pValue,
        f.baseVersion,
        f.currentVersion,
        f.baseFrom,
        f.baseTo,
        f.currentFrom,
        f.currentTo,
        JSON.stringify(
          f.topCallers.map((c) => ({ function: c.function, cpuNanosecondsDelta: c.cpuNanosecondsDelta.toString() })),
        ),
        notifiedDelta.toString(),
        resolvedAt,
      ],
    );
  }

  /** Marks a finding seen again without a message (it stayed). */
  async touch(tx: Db, fingerprint: string): Promise<void> {
    await tx.query(`UPDATE regression_findings SET last_seen_at = now() WHERE fingerprint = $1`, [fingerprint]);
  }

  /** Marks a finding resolved. */
  async resolve(tx: Db, fingerprint: string, at: Date): Promise<void> {
    await tx.query(`UPDATE regression_findings SET state = 'resolved', resolved_at = $2 WHERE fingerprint = $1`, [
      fingerprint,
      at,
    ]);
  }

  /**
   * Writes an outbox row (in the caller's transaction), due at once. Due to the millisecond: `claimNext` compares with
   * a JavaScript clock, which has milliseconds, and `now()`'s microseconds would leave a row written in the same
   * millisecond as that clock reading not due yet.
   */
  async enqueue(tx: Db, fingerprint: string, event: OutboxEvent, payload: FindingJson): Promise<void> {
    await tx.query(
      `INSERT INTO regression_outbox (fingerprint, event, payload, next_attempt_at)
       VALUES ($1, $2, $3::jsonb, date_trunc('milliseconds', now()))`,
      [fingerprint, event, JSON.stringify(payload)],
    );
  }

  /**
   * Locks the next row due for delivery, the oldest unsent one of its fingerprint (events of one finding go out in
   * order), skipping rows another replica holds. The lock lasts until `tx` ends: a process killed mid-delivery
   * releases it with its connection, and the row is found again.
   */
  async claimNext(tx: Db, now: Date): Promise<OutboxRow | null> {
    const [row] = await queryRows<{
      id: string;
      fingerprint: string;
      event: OutboxEvent;
      payload: FindingJson;
      attempts: number;
    }>(
      tx,
      `SELECT o.id::text AS id, o.fingerprint, o.event, o.payload, o.attempts FROM regression_outbox o
        WHERE o.sent_at IS NULL AND o.next_attempt_at <= $1
          AND NOT EXISTS (SELECT 1 FROM regression_outbox p WHERE p.fingerprint = o.fingerprint AND p.sent_at IS NULL AND p.id < o.id)
        ORDER BY o.id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [now],
    );
    return row ?? null;
  }

  /** Marks a row sent; in dry run, `route` is where it would have gone (shown by `list` until a real ticket exists). */
  async markSent(
    tx: Db,
    id: string,
    dryRun: boolean,
    route: { tracker: string; project: string } | null = null,
  ): Promise<void> {
    await tx.query(
      `UPDATE regression_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL, dry_run = $2,
         route_tracker = $3, route_project = $4 WHERE id = $1`,
      [id, dryRun, route?.tracker ?? null, route?.project ?? null],
    );
  }

  /** Records a failed attempt and when to try again. */
  async markFailed(tx: Db, id: string, error: string, nextAttemptAt: Date): Promise<void> {
    await tx.query(
      `UPDATE regression_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1`,
      [id, error, nextAttemptAt],
    );
  }

  async ticketOf(tx: Db, fingerprint: string): Promise<TicketRecord | null> {
    const [row] = await queryRows<{
      fingerprint: string;
      tracker: string;
      project: string;
      remote_id: string;
      url: string;
    }>(tx, `SELECT fingerprint, tracker, project, remote_id, url FROM regression_tickets WHERE fingerprint = $1`, [
      fingerprint,
    ]);
    return row
      ? {
          fingerprint: row.fingerprint,
          tracker: row.tracker,
          project: row.project,
          remoteId: row.remote_id,
          url: row.url,
        }
      : null;
  }

  async recordTicket(tx: Db, t: TicketRecord): Promise<void> {
    await tx.query(
      `INSERT INTO regression_tickets (fingerprint, tracker, project, remote_id, url) VALUES ($1, $2, $3, $4, $5)`,
      [t.fingerprint, t.tracker, t.project, t.remoteId, t.url],
    );
  }

  /** Unsent rows and the latest delivery error, for /readyz and the job's counts. */
  async outboxState(db: Db = this.db): Promise<{ pending: number; lastError: string | null }> {
    const [row] = await queryRows<{ pending: string; last_error: string | null }>(
      db,
      `SELECT count(*)::text AS pending, (SELECT last_error FROM regression_outbox WHERE sent_at IS NULL AND last_error IS NOT NULL ORDER BY id LIMIT 1) AS last_error
         FROM regression_outbox WHERE sent_at IS NULL`,
    );
    return { pending: Number(row?.pending ?? 0), lastError: row?.last_error ?? null };
  }

  /** Findings by state, team, service and fingerprint (each optional), most expensive first. */
  async list(
    filter: { state?: FindingState; team?: string; service?: string; fingerprint?: string },
    db: Db = this.db,
  ): Promise<Array<FindingRow & { ticket: ListedTicket | null }>> {
    const rows = await queryRows<
      FindingDbRow & {
        t_tracker: string | null;
        t_project: string | null;
        t_remote_id: string | null;
        t_url: string | null;
        d_tracker: string | null;
        d_project: string | null;
      }
    >(
      db,
      `SELECT ${FINDING_COLUMNS.replace(/(^|,\s*)(\w+)/g, '$1f.$2')}, t.tracker AS t_tracker, t.project AS t_project, t.remote_id AS t_remote_id, t.url AS t_url,
              d.route_tracker AS d_tracker, d.route_project AS d_project
         FROM regression_findings f LEFT JOIN regression_tickets t USING (fingerprint)
         LEFT JOIN LATERAL (
           SELECT o.route_tracker, o.route_project FROM regression_outbox o
            WHERE o.fingerprint = f.fingerprint AND o.dry_run AND o.route_tracker IS NOT NULL
            ORDER BY o.id DESC LIMIT 1) d ON true
        WHERE ($1::text IS NULL OR f.state = $1) AND ($2::text IS NULL OR f.team = $2) AND ($3::text IS NULL OR f.service = $3)
          AND ($4::text IS NULL OR f.fingerprint = $4)
        ORDER BY f.impact_per_year_micros DESC NULLS LAST, f.cpu_nanoseconds_delta DESC, f.fingerprint`,
      [filter.state ?? null, filter.team ?? null, filter.service ?? null, filter.fingerprint ?? null],
    );
    return rows.map((r) => ({
      ...toFinding(r),
      ticket: r.t_tracker
        ? {
            fingerprint: r.fingerprint,
            tracker: r.t_tracker,
            project: r.t_project!,
            remoteId: r.t_remote_id!,
            url: r.t_url!,
            dryRun: false as const,
          }
        : r.d_tracker
          ? {
              fingerprint: r.fingerprint,
              tracker: r.d_tracker,
              project: r.d_project!,
              remoteId: null,
              url: null,
              dryRun: true as const,
            }
          : null,
    }));
  }
}

function toFinding(r: FindingDbRow): FindingRow {
  return {
    fingerprint: r.fingerprint,
    service: r.service,
    function: r.function_name,
    sampleType: r.sample_type,
    kind: r.kind,
    team: r.team,
    state: r.state,
    baseShare: r.base_share,
    currentShare: r.current_share,
    baseCpuNanoseconds: BigInt(r.base_cpu_nanoseconds),
    currentCpuNanoseconds: BigInt(r.current_cpu_nanoseconds),
    cpuNanosecondsDelta: BigInt(r.cpu_nanoseconds_delta),
    impactPerYearMicros: r.impact_per_year_micros === null ? null : BigInt(r.impact_per_year_micros),
    pValue: r.p_value,
    baseVersion: r.base_version,
    currentVersion: r.current_version,
    baseFrom: r.base_from,
    baseTo: r.base_to,
    currentFrom: r.current_from,
    currentTo: r.current_to,
    topCallers: r.top_callers.map((c) => ({
      function: c.function,
      cpuNanosecondsDelta: BigInt(c.cpuNanosecondsDelta),
    })),
    notifiedDelta: BigInt(r.notified_delta),
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    resolvedAt: r.resolved_at,
  };
}

/** A finding as JSON for the outbox and the API: bigints as strings, dates as ISO strings. */
export function findingJson(f: FindingFigures): FindingJson {
  return {
    fingerprint: f.fingerprint,
    service: f.service,
    function: f.function,
    sampleType: f.sampleType,
    kind: f.kind,
    team: f.team,
    baseShare: f.baseShare,
    currentShare: f.currentShare,
    baseCpuNanoseconds: f.baseCpuNanoseconds.toString(),
    currentCpuNanoseconds: f.currentCpuNanoseconds.toString(),
    cpuNanosecondsDelta: f.cpuNanosecondsDelta.toString(),
    impactPerYearMicros: f.impactPerYearMicros?.toString() ?? null,
    pValue: f.pValue,
    baseVersion: f.baseVersion,
    currentVersion: f.currentVersion,
    baseFrom: f.baseFrom.toISOString(),
    baseTo: f.baseTo.toISOString(),
    currentFrom: f.currentFrom.toISOString(),
    currentTo: f.currentTo.toISOString(),
    topCallers: f.topCallers.map((c) => ({
      function: c.function,
      cpuNanosecondsDelta: c.cpuNanosecondsDelta.toString(),
    })),
  };
}
