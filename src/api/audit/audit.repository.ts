import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query-rows';

export interface AuditEntry {
  readonly keyId: string | null;
  readonly keyName: string | null;
  readonly scope: string;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly status: number;
  readonly requestId: string | null;
}

export interface AuditRow extends AuditEntry {
  readonly id: string;
  readonly at: Date;
}

/** `api_audit`: who called an export or admin route, when, and how it was answered. */
@Injectable()
export class AuditRepository {
  constructor(private readonly db: DataSource) {}

  /** Deletes audit rows older than `before`; returns how many. */
  async deleteBefore(before: Date): Promise<number> {
    const rows = await queryRows<{ n: string }>(
      this.db,
      `WITH d AS (DELETE FROM api_audit WHERE at < $1 RETURNING 1) SELECT count(*)::text AS n FROM d`,
      [before],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async insert(e: AuditEntry): Promise<void> {
    await this.db.query(
      `INSERT INTO api_audit (key_id, key_name, scope, method, path, query, status, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [e.keyId, e.keyName, e.scope, e.method, e.path, e.query, e.status, e.requestId],
    );
  }

  /** Newest first, `limit` rows with an id below `beforeId` (a keyset page). */
  list(limit: number, beforeId: string | null): Promise<AuditRow[]> {
    return queryRows<AuditRow>(
      this.db,
      `SELECT id::text AS id, at, key_id::text AS "keyId", key_name AS "keyName", scope, method, path, query, status, request_id AS "requestId"
         FROM api_audit WHERE ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $1`,
      [limit, beforeId],
    );
  }
}
