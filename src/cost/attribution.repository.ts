import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/query-rows';
import type { TimeWindow } from '../domain/time-window';
import type { WindowAttributionSplits } from '../domain/cost';
import type { PriceSchedule } from './price-schedule';
import { isoDay } from '../domain/time-window';

/** Hourly fact tables, partitioned by month on `window_start`. */
export const HOURLY_FACT_TABLES = [
  'cost_service_windows',
  'cost_team_windows',
  'cost_label_windows',
  'cost_function_splits',
] as const;
/** Daily function facts (blocks and board lists), partitioned by month on `day`. */
export const FUNCTION_DAY_TABLES = ['cost_function_day_blocks', 'cost_function_day_tops'] as const;

/** Advisory-lock class serializing partition creation ("part"). */
const PARTITION_LOCK_CLASS = 0x70617274;

/** Provenance and facts of one window, ready to store. */
export interface WindowFacts {
  readonly windowStart: Date;
  readonly windowEnd: Date;
  readonly attribution: WindowAttributionSplits;
  readonly catalogRevisionId: string | null;
  readonly priceSchedule: PriceSchedule;
  readonly profileCount: number;
  /** Per service row: digests of the stored profiles it was computed from. */
  readonly profileDigests: ReadonlyMap<string, readonly string[]>;
  /** Per service: encoded function split, its function count and Σ self. */
  readonly splits: ReadonlyMap<string, { readonly bytes: Buffer; readonly functions: number; readonly self: bigint }>;
}

/**
 * Writes cost facts. Every method takes the caller's transaction: the attribution of a window replaces its
 * hourly rows, applies its change to the daily function facts (`FunctionDayRepository`) and rebuilds its day's
 * rollups in one transaction.
 */
@Injectable()
export class AttributionRepository {
  /**
   * Creates the month partitions the window's rows go to, unless they exist. Asked of the database every time (one
   * round trip) rather than remembered: retention or another replica may have dropped a month since.
   */
  async ensurePartitions(tx: EntityManager, windowStart: Date): Promise<void> {
    const from = new Date(Date.UTC(windowStart.getUTCFullYear(), windowStart.getUTCMonth(), 1));
    const to = new Date(Date.UTC(windowStart.getUTCFullYear(), windowStart.getUTCMonth() + 1, 1));
    const suffix = `y${from.getUTCFullYear()}m${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
    const tables = [...HOURLY_FACT_TABLES, ...FUNCTION_DAY_TABLES];
    const missing = await queryRows<{ name: string }>(
      tx,
      `SELECT t AS name FROM unnest($1::text[]) AS t WHERE to_regclass(t || '_' || $2) IS NULL ORDER BY t`,
      [tables, suffix],
    );
    if (missing.length === 0) return;
    // Two replicas creating the same partition at once would collide in the catalog: take turns.
    await tx.query(`SELECT pg_advisory_xact_lock(${PARTITION_LOCK_CLASS}, 0)`);
    for (const { name: table } of missing) {
      const bounds = (FUNCTION_DAY_TABLES as readonly string[]).includes(table)
        ? [isoDay(from), isoDay(to)]
        : [from.toISOString(), to.toISOString()];
      await tx.query(
        `CREATE TABLE IF NOT EXISTS ${table}_${suffix} PARTITION OF ${table} FOR VALUES FROM ('${bounds[0]}') TO ('${bounds[1]}')`,
      );
    }
  }

  /** Stores the price schedule unless known. */
  async savePriceSchedule(tx: EntityManager, schedule: PriceSchedule): Promise<void> {
    await tx.query(
      `INSERT INTO price_schedules (id, currency, document) VALUES ($1, $2, $3::jsonb) ON CONFLICT (id) DO NOTHING`,
      [schedule.id, schedule.currency, JSON.stringify(schedule.document)],
    );
  }

  /** Starts of the attributed windows in [from, to), oldest first. */
  async attributedWindows(db: DataSource | EntityManager, from: Date, to: Date): Promise<TimeWindow[]> {
    const rows = await queryRows<{ window_start: Date; window_end: Date }>(
      db,
      `SELECT window_start, window_end FROM cost_windows WHERE window_start >= $1 AND window_start < $2 ORDER BY window_start`,
      [from, to],
    );
    return rows.map((r) => ({ start: r.window_start, end: r.window_end }));
  }

  /** The services of an attributed window and the profiler names that resolved to each. */
  async attributedServices(
    db: DataSource | EntityManager,
    windowStart: Date,
  ): Promise<Array<{ service: string; profileServiceNames: string[] }>> {
    return queryRows(
      db,
      `SELECT service, profile_service_names AS "profileServiceNames" FROM cost_service_windows WHERE window_start = $1 ORDER BY service`,
      [windowStart],
    );
  }

  /** A stored price schedule by id, or null when none has that id. */
  async priceSchedule(db: EntityManager, id: string): Promise<PriceSchedule | null> {
    const [row] = await queryRows<{ id: string; currency: string; document: unknown }>(
      db,
      `SELECT id, currency, document FROM price_schedules WHERE id = $1`,
      [id],
    );
    return row ? { id: row.id, currency: row.currency, document: row.document } : null;
  }

  /** The window's stored function splits by service (what the daily function facts currently include). */
  async functionSplits(tx: EntityManager, windowStart: Date): Promise<Map<string, Buffer>> {
    const rows = await queryRows<{ service: string; split: Buffer }>(
      tx,
      `SELECT service, split FROM cost_function_splits WHERE window_start = $1`,
      [windowStart],
    );
    return new Map(rows.map((r) => [r.service, r.split]));
  }

  /** Deletes every hourly row of the window and inserts the new ones. */
  async replaceWindow(tx: EntityManager, facts: WindowFacts): Promise<void> {
    const start = facts.windowStart;
    for (const table of ['cost_windows', ...HOURLY_FACT_TABLES])
      await tx.query(`DELETE FROM ${table} WHERE window_start = $1`, [start]);
    const a = facts.attribution;
    await tx.query(
      `INSERT INTO cost_windows (window_start, window_end, currency, total_microdollars, idle_microdollars, default_priced,
                                 catalog_revision_id, catalog_revision, price_schedule_id, profile_count, idle, unowned_services)
       VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6, $7::bigint, $8, $9, $10, $11::jsonb, $12::text[])`,
      [
        start,
        facts.windowEnd,
        a.currency,
        a.totalMicrodollars.toString(),
        a.idleMicrodollars.toString(),
        a.defaultPriced,
        facts.catalogRevisionId,
        a.catalogRevision,
        facts.priceSchedule.id,
        facts.profileCount,
        JSON.stringify(
          a.idle.map((l) => ({
            source: l.source,
            microdollars: l.microdollars.toString(),
            overcommitted: l.overcommitted,
          })),
        ),
        a.unownedServices,
      ],
    );
    await insertJson(
      tx,
      `INSERT INTO cost_service_windows (window_start, service, team, system, cpu_nanoseconds, microdollars, mode, default_priced,
                                         price_ids, profile_service_names, profile_digests)
       SELECT $1, x.service, x.team, x.system, x.cpu_nanoseconds, x.microdollars, x.mode, x.default_priced,
              x.price_ids, x.profile_service_names, x.profile_digests
         FROM jsonb_to_recordset($2::jsonb) AS x(service text, team text, system text, cpu_nanoseconds bigint, microdollars bigint,
              mode text, default_priced boolean, price_ids text[], profile_service_names text[], profile_digests text[])`,
      start,
      a.services.map((s) => ({
        service: s.service,
        team: s.team,
        system: s.system,
        cpu_nanoseconds: s.cpuNanoseconds.toString(),
        microdollars: s.microdollars.toString(),
        mode: s.mode,
        default_priced: s.defaultPriced,
        price_ids: s.priceIds,
        profile_service_names: s.profileServiceNames,
        profile_digests: facts.profileDigests.get(s.service) ?? [],
      })),
    );
    await insertJson(
      tx,
      `INSERT INTO cost_team_windows (window_start, team, kind, parent_team, own_microdollars, rolled_up_microdollars)
       SELECT $1, x.team, x.kind, x.parent_team, x.own, x.rolled_up
         FROM jsonb_to_recordset($2::jsonb) AS x(team text, kind text, parent_team text, own bigint, rolled_up bigint)`,
      start,
      a.teams.map((t) => ({
        team: t.team,
        kind: t.kind,
        parent_team: t.parent,
        own: t.ownMicrodollars.toString(),
        rolled_up: t.rolledUpMicrodollars.toString(),
      })),
    );
    await insertJson(
      tx,
      `INSERT INTO cost_label_windows (window_start, service, label_key, label_value, microdollars)
       SELECT $1, x.service, x.label_key, x.label_value, x.microdollars
         FROM jsonb_to_recordset($2::jsonb) AS x(service text, label_key text, label_value text, microdollars bigint)`,
      start,
      a.labels.map((l) => ({
        service: l.service,
        label_key: l.key,
        label_value: l.value,
        microdollars: l.microdollars.toString(),
      })),
    );
    const splits = [...facts.splits];
    for (let i = 0; i < splits.length; i += 1000) {
      const chunk = splits.slice(i, i + 1000);
      await tx.query(
        `INSERT INTO cost_function_splits (window_start, service, function_count, self_microdollars, split)
         SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bytea[])`,
        [
          start,
          chunk.map(([s]) => s),
          chunk.map(([, v]) => v.functions),
          chunk.map(([, v]) => v.self.toString()),
          chunk.map(([, v]) => v.bytes),
        ],
      );
    }
  }

  /**
   * Retention of hourly facts: drops the month partitions of the hourly fact tables that end at or before
   * `cutoff`'s month and deletes their window headers. Daily rollups are kept. Returns the dropped partitions.
   */
  async dropHourlyMonthsBefore(tx: EntityManager, cutoff: Date): Promise<string[]> {
    const monthStart = monthOf(cutoff);
    const dropped = await this.dropMonthPartitionsBefore(tx, HOURLY_FACT_TABLES, monthStart);
    await tx.query(`DELETE FROM cost_windows WHERE window_start < $1`, [monthStart]);
    // The label and provenance rollups go with the hourly rows they were taken from, so they answer for the same days
    // as before.
    await tx.query(`DELETE FROM cost_label_days WHERE day < $1::date`, [isoDay(monthStart)]);
    await tx.query(`DELETE FROM cost_provenance_days WHERE day < $1::date`, [isoDay(monthStart)]);
    return dropped;
  }

  /**
   * Retention of daily function facts: drops the month partitions of the function day blocks and board lists
   * that end at or before `cutoff`'s month, with their day states. Service and team rollups are kept.
   */
  async dropFunctionDayMonthsBefore(tx: EntityManager, cutoff: Date): Promise<string[]> {
    const monthStart = monthOf(cutoff);
    const dropped = await this.dropMonthPartitionsBefore(tx, FUNCTION_DAY_TABLES, monthStart);
    await tx.query(`DELETE FROM cost_function_day_states WHERE day < $1::date`, [isoDay(monthStart)]);
    return dropped;
  }

  private async dropMonthPartitionsBefore(
    tx: EntityManager,
    tables: readonly string[],
    monthStart: Date,
  ): Promise<string[]> {
    const rows = await queryRows<{ name: string }>(
      tx,
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = ANY($1::text[]) AND c.relname ~ '_y[0-9]{4}m[0-9]{2}$'
          AND to_date(substring(c.relname from 'y([0-9]{4})m') || substring(c.relname from 'm([0-9]{2})$'), 'YYYYMM') < $2::date
        ORDER BY 1`,
      [[...tables], isoDay(monthStart)],
    );
    for (const { name } of rows) {
      await tx.query(`DROP TABLE ${name}`);
    }
    return rows.map((r) => r.name);
  }

  /** Recomputes the day's service, team, provenance and label rollups from its hourly rows. */
  async rebuildDayRollups(tx: EntityManager, day: string): Promise<void> {
    const from = new Date(`${day}T00:00:00Z`);
    const to = new Date(from.getTime() + 86_400_000);
    await tx.query(`DELETE FROM cost_service_days WHERE day = $1::date`, [day]);
    await tx.query(
      `INSERT INTO cost_service_days (day, service, team, cpu_nanoseconds, microdollars, default_priced, windows)
       SELECT $1::date, service, team, sum(cpu_nanoseconds), sum(microdollars), bool_or(default_priced), count(*)
         FROM cost_service_windows WHERE window_start >= $2 AND window_start < $3 GROUP BY service, team`,
      [day, from, to],
    );
    await tx.query(`DELETE FROM cost_team_days WHERE day = $1::date`, [day]);
    await tx.query(
      `INSERT INTO cost_team_days (day, team, kind, own_microdollars, rolled_up_microdollars)
       SELECT $1::date, team, min(kind), sum(own_microdollars), sum(rolled_up_microdollars)
         FROM cost_team_windows WHERE window_start >= $2 AND window_start < $3 GROUP BY team`,
      [day, from, to],
    );
    await tx.query(`DELETE FROM cost_provenance_days WHERE day = $1::date`, [day]);
    await tx.query(
      `INSERT INTO cost_provenance_days (day, service, team, price_ids, profile_digests)
       SELECT $1::date, s.service, s.team,
              coalesce(array_agg(DISTINCT p.id ORDER BY p.id) FILTER (WHERE p.id IS NOT NULL), '{}'),
              coalesce(array_agg(DISTINCT d.digest ORDER BY d.digest) FILTER (WHERE d.digest IS NOT NULL), '{}')
         FROM cost_service_windows s
         LEFT JOIN LATERAL unnest(s.price_ids) AS p(id) ON true
         LEFT JOIN LATERAL unnest(s.profile_digests) AS d(digest) ON true
        WHERE s.window_start >= $2 AND s.window_start < $3
        GROUP BY s.service, s.team`,
      [day, from, to],
    );
    await tx.query(`DELETE FROM cost_label_days WHERE day = $1::date`, [day]);
    await tx.query(
      `INSERT INTO cost_label_days (day, service, team, label_key, label_value, microdollars)
       SELECT $1::date, l.service, s.team, l.label_key, l.label_value, sum(l.microdollars)
         FROM cost_label_windows l JOIN cost_service_windows s USING (window_start, service)
        WHERE l.window_start >= $2 AND l.window_start < $3 AND s.window_start >= $2 AND s.window_start < $3
        GROUP BY l.service, s.team, l.label_key, l.label_value`,
      [day, from, to],
    );
  }
}

async function insertJson(tx: EntityManager, sql: string, windowStart: Date, rows: readonly object[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 10_000)
    await tx.query(sql, [windowStart, JSON.stringify(rows.slice(i, i + 10_000))]);
}

/** `YYYY-MM-DD` of a UTC instant. */
/** The first instant of `date`'s UTC month. */
function monthOf(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
}
