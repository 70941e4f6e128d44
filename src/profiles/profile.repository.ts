import type { TimeWindow } from '../domain/time-window';
import type { DataSource, EntityManager } from 'typeorm';
import type { PoolClient } from 'pg';
import { pgPool, withPgTransaction } from '../database/transactions';
import { queryRows } from '../database/query-rows';

/** A row to store in `profiles` (see migrations/*-CreateProfiles.ts for the columns' meaning). */
export interface NewProfileRow {
  /** Settings source name, `push` or `demo`. */
  readonly source: string;
  readonly service: string;
  /** `<type>:<unit>` of the folded sample type, e.g. `cpu:nanoseconds`. */
  readonly profileType: string;
  readonly windowStart: Date;
  readonly windowEnd: Date;
  /** sha256 hex identifying the profile within (source, service, profile type, window). */
  readonly digest: string;
  readonly seriesLabels: Readonly<Record<string, string>>;
  readonly byteSize: number;
  readonly sampleCount: number;
  /** CPU time in the profile; null when it is not CPU time. */
  readonly cpuNanoseconds: bigint | null;
  readonly wallOnly: boolean;
  /** serializeFold() bytes. */
  readonly fold: Uint8Array;
  /** The bytes as received; null when not kept. */
  readonly raw: Uint8Array | null;
}

/** A stored profile as attribution reads it (without `raw`, which can be large: see `rawBytesMany`). */
export interface StoredProfile extends Omit<NewProfileRow, 'fold' | 'raw'> {
  readonly id: string;
  /** serializeFold() bytes, as node-postgres returns bytea. */
  readonly fold: Buffer;
  readonly receivedAt: Date;
}

/**
 * The merged fold of the pushes of one attribution group of a window, up to `throughId` (see `listWindowForAttribution`).
 * `digestSum` is the sum modulo 2^256 of the sha256 of each merged push's digest, as hex: a digest of the set that can
 * be extended one push at a time and does not depend on their order.
 */
export interface PushMerge {
  readonly windowStart: Date;
  readonly windowEnd: Date;
  readonly service: string;
  readonly profileType: string;
  readonly seriesLabels: Readonly<Record<string, string>>;
  readonly throughId: string;
  readonly profileCount: number;
  readonly cpuNanoseconds: bigint;
  readonly sampleCount: number;
  readonly digestSum: string;
  readonly fold: Buffer;
}

/** The group of a push in SQL: what attribution merges together (service, source, cluster, region, profile type). */
const GROUP_KEY_SQL = (t: string) =>
  `jsonb_build_array(${t}.service, ${t}.source, ${t}.series_labels->>'cluster', ${t}.series_labels->>'region', ${t}.profile_type)::text`;

/** The columns of a profile row but its fold and raw bytes, of table alias `t`. */
const HEADER_COLUMNS_SQL = (t: string) =>
  `${t}.id, ${t}.source, ${t}.service, ${t}.profile_type, ${t}.window_start, ${t}.window_end, ${t}.digest,
   ${t}.series_labels, ${t}.byte_size, ${t}.sample_count, ${t}.cpu_nanoseconds, ${t}.wall_only, ${t}.received_at`;

/** `GROUP_KEY_SQL` of a merge row from `mergeParams` ($2 service, $3 profile type, $5 series labels). */
const MERGE_GROUP_KEY_PARAMS_SQL = `jsonb_build_array($2::text, 'push', ($5::jsonb)->>'cluster', ($5::jsonb)->>'region', $3::text)::text`;

/**
 * The merged call trees of the pushes of one attribution group of a window up to `throughId` (its own: attribution
 * moves the fold merge forward without building trees), kept by `compact-pushes` from the pushes' raw bytes.
 */
export interface PushTreeMerge {
  readonly groupKey: string;
  /** The group's profiler service name. */
  readonly service: string;
  readonly throughId: string;
  /** Whether `trees` holds one tree per `version` label value besides the whole one. */
  readonly splitVersion: boolean;
  readonly profileCount: number;
  /** Pushes of `profileCount` without a tree (no raw bytes, unreadable, not matching their CPU time). */
  readonly missingRaw: number;
  /** encodeTree() bytes by version, '' for the whole tree; empty when no push had a tree. */
  readonly trees: ReadonlyMap<string, Buffer>;
}

/** A stored profile without its fold. */
export type StoredProfileHeader = Omit<StoredProfile, 'fold'>;

export interface InsertResult {
  readonly id: string;
  /** True when an identical profile (same key and digest) was stored before: nothing was written. */
  readonly duplicate: boolean;
}

export interface ReplaceResult {
  readonly deleted: number;
  readonly inserted: number;
  /** True when the window already held exactly these digests: nothing was written and the window stays clean. */
  readonly unchanged: boolean;
}

/**
 * Advisory-lock class of per-window locks ("wind"). Writers of a window hold the shared lock for their transaction, so
 * writers never wait for each other. The exclusive one is taken briefly: to read how far every write has committed
 * (`committedHighWater`, for compaction and attribution) and, by attribution, to clear the dirty mark just before
 * its commit (`clearDirtyIfUnchanged`); it waits for every writer in flight.
 */
export const WINDOW_LOCK_CLASS = 0x77696e64;

/** Advisory-lock classes of a window's push compaction, folds ("cmpk") and trees ("cmpt"): see `withCompactionLock`. */
const COMPACTION_LOCK_CLASS = 0x636d706b;
const TREE_COMPACTION_LOCK_CLASS = 0x636d7074;

/** The second advisory-lock key of a window: minutes since the epoch (windows are whole minutes). */
export function windowLockKey(windowStart: Date): number {
  return Math.floor(windowStart.getTime() / 60_000);
}

const INSERT_COLUMNS = `source, service, profile_type, window_start, window_end, digest, series_labels, byte_size,
  sample_count, cpu_nanoseconds, wall_only, fold, raw`;

/**
 * One statement, so one round trip and its own transaction: take the window's shared lock, insert the profile unless
 * its identity exists, and mark the window dirty when a row was inserted. A marked window is left as is
 * (`DO NOTHING` takes no row lock, so concurrent pushes into one hot window do not queue behind each other).
 */
const INSERT_SQL = `
  WITH guard AS (SELECT pg_advisory_xact_lock_shared(${WINDOW_LOCK_CLASS}, $14::int)),
  ins AS (
    INSERT INTO profiles (${INSERT_COLUMNS})
    SELECT $1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10::bigint, $11, $12, $13 FROM guard
    ON CONFLICT ON CONSTRAINT profiles_identity_key DO NOTHING
    RETURNING id, window_start
  ),
  mark AS (
    INSERT INTO dirty_windows (window_start, marked_at) SELECT window_start, now() FROM ins
    ON CONFLICT (window_start) DO NOTHING
  )
  SELECT id FROM ins`;

/** Parameters per row of `insertMany`'s VALUES list (the 13 insert columns). */
const ROW_PARAMS = 13;

/**
 * `insertMany` as one statement for `rowCount` rows: the same protocol as `INSERT_SQL` for several windows at once.
 * `guard` takes every distinct window's shared lock, in key order, before any row is produced (the aggregate must
 * see every lock call first); rows whose identity exists are skipped; each window that received a row is marked.
 * One statement is one implicit transaction: one round trip and one commit (one WAL flush) for the whole batch.
 */
function insertManySql(rowCount: number): string {
  const lockParam = rowCount * ROW_PARAMS + 1;
  const values: string[] = [];
  for (let r = 0; r < rowCount; r++) {
    const p = (i: number): string => `$${r * ROW_PARAMS + i}`;
    values.push(
      `(${p(1)}::text, ${p(2)}::text, ${p(3)}::text, ${p(4)}::timestamptz, ${p(5)}::timestamptz, ${p(6)}::text, ${p(7)}::jsonb, ${p(8)}::int, ${p(9)}::int, ${p(10)}::bigint, ${p(11)}::boolean, ${p(12)}::bytea, ${p(13)}::bytea)`,
    );
  }
  return `
  WITH guard AS (
    SELECT count(pg_advisory_xact_lock_shared(${WINDOW_LOCK_CLASS}, k)) AS locks
      FROM (SELECT DISTINCT k FROM unnest($${lockParam}::int[]) AS k ORDER BY k) AS keys
  ),
  ins AS (
    INSERT INTO profiles (${INSERT_COLUMNS})
    SELECT v.* FROM (VALUES ${values.join(',\n      ')}) AS v, guard
    ON CONFLICT ON CONSTRAINT profiles_identity_key DO NOTHING
    RETURNING id, source, service, profile_type, window_start, digest
  ),
  mark AS (
    INSERT INTO dirty_windows (window_start, marked_at) SELECT DISTINCT window_start, now() FROM ins
    ON CONFLICT (window_start) DO NOTHING
  )
  SELECT id, source, service, profile_type, window_start, digest FROM ins`;
}

/** The unique identity of a profile row, as one string. */
function identityOf(r: {
  source: string;
  service: string;
  profileType: string;
  windowStart: Date;
  digest: string;
}): string {
  return `${r.source}\u0000${r.service}\u0000${r.profileType}\u0000${r.windowStart.getTime()}\u0000${r.digest}`;
}

/** The `profiles` and `dirty_windows` tables. Every write marks its window dirty in the same transaction. */
export class ProfileRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Stores one profile unless an identical one (same source, service, profile type, window and digest) exists:
   * a retried push is counted once. Committed when the promise resolves.
   */
  async insert(row: NewProfileRow): Promise<InsertResult> {
    const result = await pgPool(this.db).query<{ id: string }>(INSERT_SQL, insertParams(row));
    const inserted = result.rows[0];
    if (inserted) return { id: inserted.id, duplicate: false };
    return { id: await this.existingId(row), duplicate: true };
  }

  /**
   * Stores several profiles in one statement (one transaction, one commit): group commit for the push path, with
   * exactly `insert`'s semantics per row. Results are in `rows` order; a row whose identity was committed before, or
   * that repeats an earlier row of the same batch, is a duplicate with the stored id. All rows commit or none do.
   */
  async insertMany(rows: readonly NewProfileRow[]): Promise<InsertResult[]> {
    if (rows.length === 0) return [];
    if (rows.length === 1) return [await this.insert(rows[0]!)];
    // In identity order, so two batches that share identities (a retry racing its original) wait for each other in
    // one order and cannot deadlock on the unique index.
    const ordered = [...rows].sort((a, b) =>
      identityOf(a) < identityOf(b) ? -1 : identityOf(a) > identityOf(b) ? 1 : 0,
    );
    const params: unknown[] = [];
    for (const row of ordered) params.push(...insertParams(row).slice(0, ROW_PARAMS));
    params.push(ordered.map((row) => windowLockKey(row.windowStart)));
    const result = await pgPool(this.db).query<{
      id: string;
      source: string;
      service: string;
      profile_type: string;
      window_start: Date;
      digest: string;
    }>(insertManySql(rows.length), params);
    const inserted = new Map<string, string>();
    for (const r of result.rows)
      inserted.set(identityOf({ ...r, profileType: r.profile_type, windowStart: r.window_start }), r.id);
    const claimed = new Set<string>();
    const results: InsertResult[] = [];
    for (const row of rows) {
      const identity = identityOf(row);
      const id = inserted.get(identity);
      if (id !== undefined && !claimed.has(identity)) {
        claimed.add(identity);
        results.push({ id, duplicate: false });
      } else {
        results.push({ id: id ?? (await this.existingId(row)), duplicate: true });
      }
    }
    return results;
  }

  /**
   * Replaces what `source` stored for (service, profile type, window) with `rows`, in one transaction: a pull re-run
   * for a window converges to the latest fetch. When the window already holds exactly these digests nothing is
   * written and the window is not marked dirty. Every row must carry the same source, service, type and window.
   * With `tx`, the writes join that transaction (a work item's commit, so they land with the item or not at all).
   */
  async replaceSourceWindow(
    source: string,
    service: string,
    profileType: string,
    windowStart: Date,
    rows: readonly NewProfileRow[],
    tx?: EntityManager,
  ): Promise<ReplaceResult> {
    for (const row of rows) assertSameKey(row, source, service, profileType, windowStart);
    const replace = async (client: PoolClient): Promise<ReplaceResult> => {
      await lockWindowShared(client, windowStart);
      const key = [source, service, profileType, windowStart];
      const existing = await client.query<{ digest: string }>(
        `SELECT digest FROM profiles WHERE source = $1 AND service = $2 AND profile_type = $3 AND window_start = $4 FOR UPDATE`,
        key,
      );
      if (
        sameDigests(
          existing.rows.map((r) => r.digest),
          rows.map((r) => r.digest),
        )
      ) {
        return { deleted: 0, inserted: 0, unchanged: true };
      }
      const deleted = await client.query(
        `DELETE FROM profiles WHERE source = $1 AND service = $2 AND profile_type = $3 AND window_start = $4`,
        key,
      );
      let inserted = 0;
      for (const row of rows) {
        const res = await client.query(
          `INSERT INTO profiles (${INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10::bigint, $11, $12, $13)
           ON CONFLICT ON CONSTRAINT profiles_identity_key DO NOTHING`,
          insertParams(row).slice(0, 13),
        );
        inserted += res.rowCount ?? 0;
      }
      await client.query(
        `INSERT INTO dirty_windows (window_start, marked_at) VALUES ($1, now()) ON CONFLICT (window_start) DO NOTHING`,
        [windowStart],
      );
      return { deleted: deleted.rowCount ?? 0, inserted, unchanged: false };
    };
    // TypeORM's PostgreSQL query runner holds the pg client of its transaction: run the same statements on it.
    if (tx) return replace((await tx.queryRunner!.connect()) as PoolClient);
    return withPgTransaction(this.db, replace);
  }

  /** Every profile of one window, all sources and services, in id order; without raw bytes. */
  async listWindow(windowStart: Date, db: DataSource | EntityManager = this.db): Promise<StoredProfile[]> {
    const rows = await queryRows<ProfileRow>(
      db,
      `SELECT id, source, service, profile_type, window_start, window_end, digest, series_labels, byte_size,
              sample_count, cpu_nanoseconds, wall_only, fold, received_at
         FROM profiles WHERE window_start = $1 ORDER BY id`,
      [windowStart],
    );
    return rows.map(toStoredProfile);
  }

  /**
   * What attribution reads of a window: the merges of its pushes, and every profile up to `throughId` not in a merge
   * yet (pulled profiles, and pushes that arrived after their group's merge), with `rows`, how many profile rows up to
   * `throughId` the window holds (what `clearDirtyIfUnchanged` compares with at the end). `throughId` is a
   * `committedHighWater` read before: every write up to it has committed, so the same read gives the same answer.
   */
  async listWindowForAttribution(
    windowStart: Date,
    tx: EntityManager,
    throughId: string,
  ): Promise<{ merges: PushMerge[]; profiles: StoredProfile[]; rows: number }> {
    const merges = await queryRows<PushMergeRow>(
      tx,
      `SELECT * FROM profile_push_merges WHERE window_start = $1 ORDER BY group_key`,
      [windowStart],
    );
    // The pushes after the merges just read, not after the merges at the time of this statement: `compact-pushes`
    // may commit a merge in between (it does not take the window's lock to write), and its pushes would be missed.
    // Matched on the group's columns, not on GROUP_KEY_SQL: building that text for each of 10,000 pushes took 2/3 of
    // the statement.
    // The window's row count up to `throughId` in the same statement (the same snapshot) as the rows themselves: a pull
    // that deletes rows in between cannot make the two disagree.
    const rows = await queryRows<ProfileRow & { total: number }>(
      tx,
      `WITH total AS (SELECT count(*)::int AS n FROM profiles WHERE window_start = $1 AND id <= $7::bigint)
       SELECT t.n AS total, r.* FROM total t LEFT JOIN LATERAL (
         SELECT p.id, p.source, p.service, p.profile_type, p.window_start, p.window_end, p.digest, p.series_labels, p.byte_size,
                p.sample_count, p.cpu_nanoseconds, p.wall_only, p.fold, p.received_at
           FROM profiles p
           LEFT JOIN unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                  AS m(service, profile_type, cluster, region, through_id)
             ON p.source = 'push' AND m.service = p.service AND m.profile_type = p.profile_type
            AND m.cluster IS NOT DISTINCT FROM p.series_labels->>'cluster'
            AND m.region IS NOT DISTINCT FROM p.series_labels->>'region'
          WHERE p.window_start = $1 AND p.id <= $7::bigint AND (m.through_id IS NULL OR p.id > m.through_id)) r ON true
        ORDER BY r.id`,
      [
        windowStart,
        merges.map((m) => m.service),
        merges.map((m) => m.profile_type),
        merges.map((m) => m.series_labels['cluster'] ?? null),
        merges.map((m) => m.series_labels['region'] ?? null),
        merges.map((m) => String(m.through_id)),
        throughId,
      ],
    );
    const total = rows[0]?.total ?? 0;
    return {
      merges: merges.map(toPushMerge),
      profiles: rows.filter((r) => r.id !== null).map(toStoredProfile),
      rows: total,
    };
  }

  /**
   * Runs `work` holding the window's compaction lock of folds or of trees, a session lock on a connection of its own
   * (released if the process dies): compactions of one window (the job's, attribution's catch-up, another replica's)
   * take turns rather than merge the same pushes side by side and throw all but one result away. Two locks, so that
   * attribution's catch-up of the folds never waits for trees being built.
   */
  async withCompactionLock<T>(windowStart: Date, of: 'folds' | 'trees', work: () => Promise<T>): Promise<T> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    const key = [of === 'folds' ? COMPACTION_LOCK_CLASS : TREE_COMPACTION_LOCK_CLASS, windowLockKey(windowStart)];
    try {
      await runner.query(`SELECT pg_advisory_lock($1::int, $2::int)`, key);
      try {
        return await work();
      } finally {
        await runner.query(`SELECT pg_advisory_unlock($1::int, $2::int)`, key);
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * An id up to which every write into the window (pushes, pulled profiles) has committed: the last id the `profiles`
   * sequence handed out, read in a transaction of its own under the window's exclusive lock, which waits for the
   * writes in flight into the window and is held only for this one-row statement. A write that commits later takes
   * its id after the lock is released (it takes the shared lock before its ids), so it is above. Null when no id was
   * handed out yet. What compaction and attribution read up to, without holding up pushes while they work.
   */
  async committedHighWater(windowStart: Date): Promise<string | null> {
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${WINDOW_LOCK_CLASS}, $1::int)`, [windowLockKey(windowStart)]);
      // The sequence, not max(id) of the window: that reads every row of the window while pushes wait on the lock.
      const [row] = await queryRows<{ high: string | null }>(
        tx,
        `SELECT CASE WHEN is_called THEN last_value::text END AS high FROM profiles_id_seq`,
      );
      return row?.high ?? null;
    });
  }

  /**
   * The push groups of a window with CPU pushes up to `throughId` that are not yet in their group's merge (`folds`) or
   * merged trees (`trees`): each group's key, how many such pushes, and whether the group has a merge of that kind.
   */
  async pushGroupsBehind(
    windowStart: Date,
    throughId: string,
    of: 'folds' | 'trees' = 'folds',
  ): Promise<Array<{ groupKey: string; pending: number; merged: boolean }>> {
    const merges =
      of === 'folds'
        ? `profile_push_merges m ON m.window_start = p.window_start AND m.group_key = ${GROUP_KEY_SQL('p')}`
        : `profile_push_merge_trees m ON m.window_start = p.window_start AND m.group_key = ${GROUP_KEY_SQL('p')} AND m.version = ''`;
    const rows = await queryRows<{ group_key: string; pending: number; merged: boolean }>(
      this.db,
      `SELECT ${GROUP_KEY_SQL('p')} AS group_key, count(*)::int AS pending, bool_or(m.through_id IS NOT NULL) AS merged
         FROM profiles p
         LEFT JOIN ${merges}
        WHERE p.window_start = $1 AND p.source = 'push' AND p.cpu_nanoseconds IS NOT NULL AND p.id <= $2::bigint
          AND (m.through_id IS NULL OR p.id > m.through_id)
        GROUP BY 1 ORDER BY 1`,
      [windowStart, throughId],
    );
    return rows.map((r) => ({ groupKey: r.group_key, pending: r.pending, merged: r.merged }));
  }

  /** The stored merge of one push group of a window, or null. */
  async pushMerge(windowStart: Date, groupKey: string): Promise<PushMerge | null> {
    const [row] = await queryRows<PushMergeRow>(
      this.db,
      `SELECT * FROM profile_push_merges WHERE window_start = $1 AND group_key = $2`,
      [windowStart, groupKey],
    );
    return row ? toPushMerge(row) : null;
  }

  /**
   * The CPU pushes of one group of a window with `afterId` < id <= `throughId`, in id order, at most `limit`.
   * Every push up to `throughId` must have committed (`committedHighWater`), so that a prefix of this list is
   * all of the group's pushes up to its last id.
   */
  async pushesOfGroup(
    windowStart: Date,
    groupKey: string,
    afterId: string,
    throughId: string,
    limit: number,
  ): Promise<StoredProfile[]> {
    const rows = await queryRows<ProfileRow>(this.db, groupPushesSql(`${HEADER_COLUMNS_SQL('p')}, p.fold`), [
      windowStart,
      groupKey,
      afterId,
      throughId,
      limit,
    ]);
    return rows.map(toStoredProfile);
  }

  /**
   * Stores `merge` as its group's merge only if the stored one is still `expectedThroughId` (null: none), in one
   * statement: a merge written meanwhile by attribution or another replica is never overwritten by an older view, and
   * a merge is always exactly the group's pushes up to its `throughId`. Returns false when the merge was not stored.
   */
  async replacePushMerge(merge: PushMerge, expectedThroughId: string | null): Promise<boolean> {
    const rows =
      expectedThroughId === null
        ? await queryRows<unknown>(
            this.db,
            `INSERT INTO profile_push_merges (window_start, group_key, service, profile_type, window_end, series_labels,
                                              through_id, profile_count, cpu_nanoseconds, sample_count, digest_sum, fold)
             VALUES ($1, ${MERGE_GROUP_KEY_PARAMS_SQL}, $2, $3, $4, $5::jsonb, $6::bigint, $7, $8::bigint, $9::bigint, $10, $11)
             ON CONFLICT (window_start, group_key) DO NOTHING
             RETURNING 1`,
            mergeParams(merge),
          )
        : await queryRows<unknown>(
            this.db,
            `UPDATE profile_push_merges SET through_id = $6::bigint, profile_count = $7, cpu_nanoseconds = $8::bigint,
                    sample_count = $9::bigint, digest_sum = $10, fold = $11
              WHERE window_start = $1 AND group_key = ${MERGE_GROUP_KEY_PARAMS_SQL} AND through_id = $12::bigint
                AND service = $2 AND window_end = $4
              RETURNING 1`,
            [...mergeParams(merge), expectedThroughId],
          );
    return rows.length > 0;
  }

  /**
   * The merged trees of a window's push groups (`profile_push_merge_trees`), or of one group. Read the pushes they do
   * not cover with `pushesNotInTreeMerges`, given these, so that a merge committed in between hides nothing.
   */
  async pushTreeMerges(
    windowStart: Date,
    db: DataSource | EntityManager = this.db,
    groupKey?: string,
  ): Promise<PushTreeMerge[]> {
    const rows = await queryRows<{
      group_key: string;
      version: string;
      through_id: string;
      split_version: boolean;
      profile_count: number;
      missing_raw: number;
      tree: Buffer | null;
    }>(
      db,
      `SELECT group_key, version, through_id::text, split_version, profile_count, missing_raw, tree
         FROM profile_push_merge_trees WHERE window_start = $1 AND ($2::text IS NULL OR group_key = $2)
        ORDER BY group_key, version`,
      [windowStart, groupKey ?? null],
    );
    const out = new Map<string, PushTreeMerge & { trees: Map<string, Buffer> }>();
    for (const r of rows) {
      let merge = out.get(r.group_key);
      if (!merge) {
        merge = {
          groupKey: r.group_key,
          service: (JSON.parse(r.group_key) as [string])[0],
          throughId: r.through_id,
          splitVersion: r.split_version,
          profileCount: r.profile_count,
          missingRaw: r.missing_raw,
          trees: new Map(),
        };
        out.set(r.group_key, merge);
      }
      if (r.tree) merge.trees.set(r.version, r.tree);
    }
    return [...out.values()];
  }

  /** `pushesOfGroup` without the folds (what tree building reads, with `rawBytesMany`). */
  async pushHeadersOfGroup(
    windowStart: Date,
    groupKey: string,
    afterId: string,
    throughId: string,
    limit: number,
  ): Promise<StoredProfileHeader[]> {
    const rows = await queryRows<Omit<ProfileRow, 'fold'>>(this.db, groupPushesSql(HEADER_COLUMNS_SQL('p')), [
      windowStart,
      groupKey,
      afterId,
      throughId,
      limit,
    ]);
    return rows.map(toStoredHeader);
  }

  /** Ids of the window's profiles that `merges` (read before, in the same transaction) cover. */
  async pushesInTreeMerges(
    windowStart: Date,
    merges: readonly PushTreeMerge[],
    db: DataSource | EntityManager = this.db,
  ): Promise<Set<string>> {
    if (merges.length === 0) return new Set();
    const rows = await queryRows<{ id: string }>(
      db,
      `SELECT p.id FROM profiles p
         JOIN unnest($2::text[], $3::bigint[]) AS m(group_key, through_id) ON m.group_key = ${GROUP_KEY_SQL('p')}
        WHERE p.window_start = $1 AND p.source = 'push' AND p.cpu_nanoseconds IS NOT NULL AND p.id <= m.through_id`,
      [windowStart, merges.map((m) => m.groupKey), merges.map((m) => m.throughId)],
    );
    return new Set(rows.map((r) => String(r.id)));
  }

  /**
   * Stores the merged trees of one push group only if the stored ones still reach `expectedThroughId` (null: none),
   * in one transaction: as `replacePushMerge`, a newer merge is never overwritten by an older view. `trees`: encoded
   * trees by version ('' the whole tree), empty when no push had one. Returns false when nothing was stored.
   */
  async replacePushTreeMerge(
    windowStart: Date,
    merge: Omit<PushTreeMerge, 'service'>,
    expectedThroughId: string | null,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const whole = merge.trees.get('') ?? null;
      const params = [
        windowStart,
        merge.groupKey,
        merge.throughId,
        merge.splitVersion,
        merge.profileCount,
        merge.missingRaw,
        whole,
      ];
      const claimed =
        expectedThroughId === null
          ? await queryRows<unknown>(
              tx,
              `INSERT INTO profile_push_merge_trees (window_start, group_key, version, through_id, split_version, profile_count, missing_raw, tree)
               VALUES ($1, $2, '', $3::bigint, $4, $5, $6, $7)
               ON CONFLICT (window_start, group_key, version) DO NOTHING RETURNING 1`,
              params,
            )
          : await queryRows<unknown>(
              tx,
              `UPDATE profile_push_merge_trees SET through_id = $3::bigint, split_version = $4, profile_count = $5, missing_raw = $6, tree = $7
                WHERE window_start = $1 AND group_key = $2 AND version = '' AND through_id = $8::bigint RETURNING 1`,
              [...params, expectedThroughId],
            );
      if (claimed.length === 0) return false;
      await tx.query(
        `DELETE FROM profile_push_merge_trees WHERE window_start = $1 AND group_key = $2 AND version <> ''`,
        [windowStart, merge.groupKey],
      );
      const versions = [...merge.trees].filter(([v]) => v !== '');
      if (versions.length > 0)
        await tx.query(
          `INSERT INTO profile_push_merge_trees (window_start, group_key, version, through_id, split_version, profile_count, missing_raw, tree)
           SELECT $1, $2, v, $3::bigint, $4, $5, $6, t FROM unnest($7::text[], $8::bytea[]) AS u(v, t)`,
          [
            windowStart,
            merge.groupKey,
            merge.throughId,
            merge.splitVersion,
            merge.profileCount,
            merge.missingRaw,
            versions.map(([v]) => v),
            versions.map(([, t]) => t),
          ],
        );
      return true;
    });
  }

  /** Stores the new merges of a window's push groups, in the attribution's transaction. */
  async saveMerges(tx: EntityManager, merges: readonly (PushMerge & { readonly source: 'push' })[]): Promise<void> {
    for (const m of merges) {
      await tx.query(
        `INSERT INTO profile_push_merges (window_start, group_key, service, profile_type, window_end, series_labels, through_id, profile_count,
                                          cpu_nanoseconds, sample_count, digest_sum, fold)
         VALUES ($1, ${MERGE_GROUP_KEY_PARAMS_SQL}, $2, $3, $4, $5::jsonb, $6::bigint, $7, $8::bigint, $9::bigint, $10, $11)
         ON CONFLICT (window_start, group_key) DO UPDATE SET
           through_id = EXCLUDED.through_id, profile_count = EXCLUDED.profile_count, cpu_nanoseconds = EXCLUDED.cpu_nanoseconds,
           sample_count = EXCLUDED.sample_count, digest_sum = EXCLUDED.digest_sum, fold = EXCLUDED.fold`,
        mergeParams(m),
      );
    }
  }

  /** The profiles of one window without their folds or raw bytes (what tree building reads first), in id order. */
  async listWindowHeaders(windowStart: Date, db: DataSource | EntityManager = this.db): Promise<StoredProfileHeader[]> {
    const rows = await queryRows<Omit<ProfileRow, 'fold'>>(
      db,
      `SELECT ${HEADER_COLUMNS_SQL('p')} FROM profiles p WHERE window_start = $1 ORDER BY id`,
      [windowStart],
    );
    return rows.map(toStoredHeader);
  }

  /** Raw bytes of several profiles by id (in the caller's transaction when given); ids without raw bytes are absent. */
  async rawBytesMany(ids: readonly string[], db: DataSource | EntityManager = this.db): Promise<Map<string, Buffer>> {
    if (ids.length === 0) return new Map();
    const rows = await queryRows<{ id: string; raw: Buffer }>(
      db,
      `SELECT id, raw FROM profiles WHERE id = ANY($1::bigint[]) AND raw IS NOT NULL`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.raw]));
  }

  /** Retention: forgets the raw bytes of profiles whose window started before `before`; returns how many. */
  async dropRawBefore(before: Date): Promise<number> {
    const rows = await queryRows<unknown>(
      this.db,
      `UPDATE profiles SET raw = NULL WHERE window_start < $1 AND raw IS NOT NULL RETURNING id`,
      [before],
    );
    return rows.length;
  }

  /** Retention: deletes profiles whose window started before `before`; returns how many. */
  async deleteBefore(before: Date): Promise<number> {
    const rows = await queryRows<unknown>(this.db, `DELETE FROM profiles WHERE window_start < $1 RETURNING id`, [
      before,
    ]);
    await this.db.query(`DELETE FROM profile_push_merges WHERE window_start < $1`, [before]);
    await this.db.query(`DELETE FROM profile_push_merge_trees WHERE window_start < $1`, [before]);
    return rows.length;
  }

  /** Windows marked dirty, oldest first, with the time of their mark. */
  async listDirtyWindows(limit = 1000): Promise<Array<{ windowStart: Date; markedAt: Date }>> {
    const rows = await queryRows<{ window_start: Date; marked_at: Date }>(
      this.db,
      `SELECT window_start, marked_at FROM dirty_windows ORDER BY window_start LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ windowStart: r.window_start, markedAt: r.marked_at }));
  }

  /** The windows marked dirty (`windowSeconds` long), oldest first, at most `limit`: what attribute and compaction visit. */
  async dirtyWindowRanges(windowSeconds: number, limit = 10_000): Promise<TimeWindow[]> {
    return (await this.listDirtyWindows(limit)).map((d) => ({
      start: d.windowStart,
      end: new Date(d.windowStart.getTime() + windowSeconds * 1000),
    }));
  }

  /** Whether the window is marked dirty (in the caller's transaction when given). */
  async isDirty(windowStart: Date, db: DataSource | EntityManager = this.db): Promise<boolean> {
    const rows = await queryRows<unknown>(db, `SELECT 1 FROM dirty_windows WHERE window_start = $1`, [windowStart]);
    return rows.length > 0;
  }

  /**
   * Clears the window's dirty mark in the caller's transaction (the attribution that read it up to `throughId`), unless
   * the window changed since: a row above `throughId` (a later write) or not `rows` rows up to it (a pull replaced or
   * deleted some). Ids are never reused and every write up to `throughId` had committed when it was read, so equal
   * counts mean the same rows. Takes the window's exclusive lock until the caller commits: it waits for writes in
   * flight (so their rows are counted), and a write that starts later waits for the commit, then marks the window
   * again. Held for this statement and the commit only, not while the window is attributed.
   * @returns true when the mark was cleared.
   */
  async clearDirtyIfUnchanged(
    manager: EntityManager,
    windowStart: Date,
    throughId: string,
    rows: number,
  ): Promise<boolean> {
    await manager.query(`SELECT pg_advisory_xact_lock(${WINDOW_LOCK_CLASS}, $1::int)`, [windowLockKey(windowStart)]);
    const cleared = await queryRows<unknown>(
      manager,
      `DELETE FROM dirty_windows WHERE window_start = $1
          AND NOT EXISTS (SELECT 1 FROM profiles WHERE window_start = $1 AND id > $2::bigint)
          AND (SELECT count(*) FROM profiles WHERE window_start = $1) = $3
       RETURNING 1`,
      [windowStart, throughId, rows],
    );
    return cleared.length > 0;
  }

  private async existingId(row: NewProfileRow): Promise<string> {
    const [found] = await queryRows<{ id: string }>(
      this.db,
      `SELECT id FROM profiles WHERE source = $1 AND service = $2 AND profile_type = $3 AND window_start = $4 AND digest = $5`,
      [row.source, row.service, row.profileType, row.windowStart, row.digest],
    );
    if (!found) throw new Error(`profile ${row.digest} conflicted on insert but is not there (deleted concurrently)`);
    return found.id;
  }
}

interface ProfileRow {
  id: string;
  source: string;
  service: string;
  profile_type: string;
  window_start: Date;
  window_end: Date;
  digest: string;
  series_labels: Record<string, string>;
  byte_size: number;
  sample_count: number;
  cpu_nanoseconds: string | null;
  wall_only: boolean;
  fold: Buffer;
  received_at: Date;
}

interface PushMergeRow {
  window_start: Date;
  window_end: Date;
  service: string;
  profile_type: string;
  series_labels: Record<string, string>;
  through_id: string;
  profile_count: number;
  cpu_nanoseconds: string;
  sample_count: string;
  digest_sum: string;
  fold: Buffer;
}

function toPushMerge(m: PushMergeRow): PushMerge {
  return {
    windowStart: m.window_start,
    windowEnd: m.window_end,
    service: m.service,
    profileType: m.profile_type,
    seriesLabels: m.series_labels,
    throughId: String(m.through_id),
    profileCount: m.profile_count,
    cpuNanoseconds: BigInt(m.cpu_nanoseconds),
    sampleCount: Number(m.sample_count),
    digestSum: m.digest_sum,
    fold: m.fold,
  };
}

/** The parameters $1..$11 of a merge row's insert (its group key is computed from them: MERGE_GROUP_KEY_PARAMS_SQL). */
function mergeParams(m: PushMerge): unknown[] {
  return [
    m.windowStart,
    m.service,
    m.profileType,
    m.windowEnd,
    JSON.stringify(m.seriesLabels),
    m.throughId,
    m.profileCount,
    m.cpuNanoseconds.toString(),
    m.sampleCount,
    m.digestSum,
    m.fold,
  ];
}

function toStoredProfile(r: ProfileRow): StoredProfile {
  return {
    id: r.id,
    source: r.source,
    service: r.service,
    profileType: r.profile_type,
    windowStart: r.window_start,
    windowEnd: r.window_end,
    digest: r.digest,
    seriesLabels: r.series_labels,
    byteSize: r.byte_size,
    sampleCount: r.sample_count,
    cpuNanoseconds: r.cpu_nanoseconds === null ? null : BigInt(r.cpu_nanoseconds),
    wallOnly: r.wall_only,
    fold: r.fold,
    receivedAt: r.received_at,
  };
}

/** A profile row without its fold. */
function toStoredHeader(r: Omit<ProfileRow, 'fold'>): StoredProfileHeader {
  const { fold: _fold, ...header } = toStoredProfile({ ...r, fold: Buffer.alloc(0) });
  return header;
}

/** One push group's CPU pushes with $3 < id <= $4 in id order, at most $5 ($1 window start, $2 group key). */
function groupPushesSql(columns: string): string {
  return `SELECT ${columns}
            FROM profiles p
           WHERE p.window_start = $1 AND p.source = 'push' AND p.cpu_nanoseconds IS NOT NULL AND ${GROUP_KEY_SQL('p')} = $2
             AND p.id > $3::bigint AND p.id <= $4::bigint
           ORDER BY p.id LIMIT $5`;
}

function insertParams(row: NewProfileRow): unknown[] {
  return [
    row.source,
    row.service,
    row.profileType,
    row.windowStart,
    row.windowEnd,
    row.digest,
    JSON.stringify(row.seriesLabels),
    row.byteSize,
    row.sampleCount,
    row.cpuNanoseconds === null ? null : row.cpuNanoseconds.toString(),
    row.wallOnly,
    asBuffer(row.fold),
    row.raw === null ? null : asBuffer(row.raw),
    windowLockKey(row.windowStart),
  ];
}

/** node-postgres sends Buffers as binary parameters; wrap other views without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function lockWindowShared(client: PoolClient, windowStart: Date): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock_shared(${WINDOW_LOCK_CLASS}, $1::int)`, [
    windowLockKey(windowStart),
  ]);
}

function assertSameKey(
  row: NewProfileRow,
  source: string,
  service: string,
  profileType: string,
  windowStart: Date,
): void {
  if (
    row.source !== source ||
    row.service !== service ||
    row.profileType !== profileType ||
    row.windowStart.getTime() !== windowStart.getTime()
  ) {
    throw new Error(
      `replaceSourceWindow(${source}, ${service}, ${profileType}, ${windowStart.toISOString()}) got a row of ${row.source}/${row.service}/${row.profileType}/${row.windowStart.toISOString()}`,
    );
  }
}

function sameDigests(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((d, i) => d === y[i]);
}
