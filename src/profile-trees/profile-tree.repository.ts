import type { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/query-rows';

/** Version of a tree row that holds every sample (the service's whole tree); other rows hold one `version` value. */
export const ALL_VERSIONS = '';

/** One stored tree (window or day) with its bookkeeping. */
export interface StoredTree {
  readonly service: string;
  readonly version: string;
  readonly profiles: number;
  readonly missingRaw: number;
  readonly cpuNanoseconds: bigint;
  readonly nodeCount: number;
  /** encodeTree() bytes. */
  readonly tree: Buffer;
}

export interface WindowTreeRow extends StoredTree {
  readonly windowStart: Date;
  readonly digestsKey: string;
}

export interface DayTreeRow extends StoredTree {
  readonly day: string;
  readonly windows: number;
}

type Db = DataSource | EntityManager;

/** The `profile_window_trees` and `profile_day_trees` tables. Writes take the caller's transaction. */
export class ProfileTreeRepository {
  constructor(private readonly db: DataSource) {}

  /** Per service, the digests key its window trees were built from. */
  async windowKeys(tx: Db, windowStart: Date): Promise<Map<string, string>> {
    const rows = await queryRows<{ service: string; digests_key: string }>(
      tx,
      `SELECT service, digests_key FROM profile_window_trees WHERE window_start = $1 AND version = $2`,
      [windowStart, ALL_VERSIONS],
    );
    return new Map(rows.map((r) => [r.service, r.digests_key]));
  }

  /**
   * Replaces the window trees of `services` (every version) with `rows` (a service without rows left the window), in
   * two statements whatever the number of services (one round trip per service per table was most of the cost).
   */
  async replaceWindows(
    tx: Db,
    windowStart: Date,
    services: readonly string[],
    rows: readonly WindowTreeRow[],
  ): Promise<void> {
    if (services.length === 0) return;
    await tx.query(`DELETE FROM profile_window_trees WHERE window_start = $1 AND service = ANY($2::text[])`, [
      windowStart,
      services,
    ]);
    if (rows.length === 0) return;
    await tx.query(
      `INSERT INTO profile_window_trees (service, window_start, version, digests_key, profiles, missing_raw, cpu_nanoseconds, node_count, tree)
       SELECT s, $1, v, k, p, m, c, n, t
         FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::bigint[], $8::int[], $9::bytea[]) AS u(s, v, k, p, m, c, n, t)`,
      [
        windowStart,
        rows.map((r) => r.service),
        rows.map((r) => r.version),
        rows.map((r) => r.digestsKey),
        rows.map((r) => r.profiles),
        rows.map((r) => r.missingRaw),
        rows.map((r) => r.cpuNanoseconds.toString()),
        rows.map((r) => r.nodeCount),
        rows.map((r) => r.tree),
      ],
    );
  }

  /** Every window tree of `services` in [from, to), by window start and version. */
  async windowTrees(tx: Db, services: readonly string[], from: Date, to: Date): Promise<WindowTreeRow[]> {
    const rows = await queryRows<RawRow & { window_start: Date; digests_key: string }>(
      tx,
      `SELECT service, window_start, version, digests_key, profiles, missing_raw, cpu_nanoseconds::text AS cpu_nanoseconds, node_count, tree
         FROM profile_window_trees WHERE service = ANY($1::text[]) AND window_start >= $2 AND window_start < $3
        ORDER BY service, window_start, version`,
      [services, from, to],
    );
    return rows.map((r) => ({ ...stored(r), windowStart: r.window_start, digestsKey: r.digests_key }));
  }

  /** Replaces the day trees of `services` (every version) on `day` with `rows`, in two statements. */
  async replaceDays(tx: Db, day: string, services: readonly string[], rows: readonly DayTreeRow[]): Promise<void> {
    if (services.length === 0) return;
    await tx.query(`DELETE FROM profile_day_trees WHERE day = $1::date AND service = ANY($2::text[])`, [day, services]);
    if (rows.length === 0) return;
    await tx.query(
      `INSERT INTO profile_day_trees (service, day, version, windows, profiles, missing_raw, cpu_nanoseconds, node_count, tree)
       SELECT s, $1::date, v, w, p, m, c, n, t
         FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::bigint[], $8::int[], $9::bytea[]) AS u(s, v, w, p, m, c, n, t)`,
      [
        day,
        rows.map((r) => r.service),
        rows.map((r) => r.version),
        rows.map((r) => r.windows),
        rows.map((r) => r.profiles),
        rows.map((r) => r.missingRaw),
        rows.map((r) => r.cpuNanoseconds.toString()),
        rows.map((r) => r.nodeCount),
        rows.map((r) => r.tree),
      ],
    );
  }

  /** The tree of (service, day, version); version '' (ALL_VERSIONS) is the whole service-day. Null when none. */
  async dayTree(
    service: string,
    day: string,
    version: string = ALL_VERSIONS,
    db: Db = this.db,
  ): Promise<DayTreeRow | null> {
    const [row] = await queryRows<RawRow & { day: string; windows: number }>(
      db,
      `SELECT service, to_char(day, 'YYYY-MM-DD') AS day, version, windows, profiles, missing_raw, cpu_nanoseconds::text AS cpu_nanoseconds, node_count, tree
         FROM profile_day_trees WHERE service = $1 AND day = $2::date AND version = $3`,
      [service, day, version],
    );
    return row ? { ...stored(row), day: row.day, windows: row.windows } : null;
  }

  /** Day trees of (service, version) for the UTC days in [fromDay, toDay), oldest first. */
  async dayTrees(
    service: string,
    fromDay: string,
    toDay: string,
    version: string = ALL_VERSIONS,
    db: Db = this.db,
  ): Promise<DayTreeRow[]> {
    const rows = await queryRows<RawRow & { day: string; windows: number }>(
      db,
      `SELECT service, to_char(day, 'YYYY-MM-DD') AS day, version, windows, profiles, missing_raw, cpu_nanoseconds::text AS cpu_nanoseconds, node_count, tree
         FROM profile_day_trees WHERE service = $1 AND day >= $2::date AND day < $3::date AND version = $4 ORDER BY day`,
      [service, fromDay, toDay, version],
    );
    return rows.map((row) => ({ ...stored(row), day: row.day, windows: row.windows }));
  }

  /** Services with a whole-service day tree in [fromDay, toDay), sorted (what the regression scan walks). */
  async servicesWithDayTrees(fromDay: string, toDay: string, db: Db = this.db): Promise<string[]> {
    const rows = await queryRows<{ service: string }>(
      db,
      `SELECT DISTINCT service FROM profile_day_trees WHERE day >= $1::date AND day < $2::date AND version = $3 ORDER BY service`,
      [fromDay, toDay, ALL_VERSIONS],
    );
    return rows.map((r) => r.service);
  }

  /** Versions with a tree for a service in [fromDay, toDay), with their CPU time and last day, heaviest first. */
  async versionsOf(
    service: string,
    fromDay: string,
    toDay: string,
    db: Db = this.db,
  ): Promise<Array<{ version: string; cpuNanoseconds: bigint; lastDay: string }>> {
    const rows = await queryRows<{ version: string; cpu: string; last_day: string }>(
      db,
      `SELECT version, sum(cpu_nanoseconds)::text AS cpu, to_char(max(day), 'YYYY-MM-DD') AS last_day FROM profile_day_trees
        WHERE service = $1 AND day >= $2::date AND day < $3::date AND version <> $4 GROUP BY version ORDER BY sum(cpu_nanoseconds) DESC, version`,
      [service, fromDay, toDay, ALL_VERSIONS],
    );
    return rows.map((r) => ({ version: r.version, cpuNanoseconds: BigInt(r.cpu), lastDay: r.last_day }));
  }

  /** Versions with a tree for (service, day), sorted. */
  async dayVersions(service: string, day: string, db: Db = this.db): Promise<string[]> {
    const rows = await queryRows<{ version: string }>(
      db,
      `SELECT version FROM profile_day_trees WHERE service = $1 AND day = $2::date AND version <> $3 ORDER BY version`,
      [service, day, ALL_VERSIONS],
    );
    return rows.map((r) => r.version);
  }

  /**
   * Retention (`retention.profileDays`, as `ProfileRepository.deleteBefore`): drops window trees that start before
   * `before` and day trees of UTC days that end at or before it (a day partly inside the period is kept whole).
   * Returns the rows deleted.
   */
  async deleteBefore(before: Date): Promise<{ windows: number; days: number }> {
    const w = await queryRows<{ n: string }>(
      this.db,
      `WITH d AS (DELETE FROM profile_window_trees WHERE window_start < $1 RETURNING 1) SELECT count(*)::text AS n FROM d`,
      [before],
    );
    const d = await queryRows<{ n: string }>(
      this.db,
      `WITH d AS (DELETE FROM profile_day_trees WHERE (day + 1)::timestamp AT TIME ZONE 'UTC' <= $1 RETURNING 1) SELECT count(*)::text AS n FROM d`,
      [before],
    );
    return { windows: Number(w[0]?.n ?? 0), days: Number(d[0]?.n ?? 0) };
  }

  /** Stored bytes of the trees of one day (window and day rows), for measurements. */
  async bytesOfDay(day: string, db: Db = this.db): Promise<{ windowBytes: number; dayBytes: number }> {
    const [row] = await queryRows<{ w: string | null; d: string | null }>(
      db,
      `SELECT (SELECT sum(octet_length(tree)) FROM profile_window_trees WHERE window_start >= $1::date AND window_start < $1::date + 1)::text AS w,
              (SELECT sum(octet_length(tree)) FROM profile_day_trees WHERE day = $1::date)::text AS d`,
      [day],
    );
    return { windowBytes: Number(row?.w ?? 0), dayBytes: Number(row?.d ?? 0) };
  }
}

interface RawRow {
  service: string;
  version: string;
  profiles: number;
  missing_raw: number;
  cpu_nanoseconds: string;
  node_count: number;
  tree: Buffer;
}

function stored(r: RawRow): StoredTree {
  return {
    service: r.service,
    version: r.version,
    profiles: r.profiles,
    missingRaw: r.missing_raw,
    cpuNanoseconds: BigInt(r.cpu_nanoseconds),
    nodeCount: r.node_count,
    tree: r.tree,
  };
}
