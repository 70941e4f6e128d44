import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query-rows';

export const SCOPES = ['read', 'export', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** A key as stored: never the key itself, only its hash and the first characters to recognise it by. */
export interface ApiKeyRow {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly scopes: Scope[];
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
}

const COLUMNS = `id::text AS id, name, key_prefix AS prefix, scopes, created_at AS "createdAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"`;

/** `api_keys`: the finance API's keys. */
@Injectable()
export class ApiKeyRepository {
  constructor(private readonly db: DataSource) {}

  /** Inserts an active key; null when an active key already has that name. */
  async insert(key: {
    name: string;
    hash: string;
    prefix: string;
    scopes: readonly Scope[];
  }): Promise<ApiKeyRow | null> {
    const [row] = await queryRows<ApiKeyRow>(
      this.db,
      `INSERT INTO api_keys (name, key_hash, key_prefix, scopes) VALUES ($1, $2, $3, $4::text[])
       ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING ${COLUMNS}`,
      [key.name, key.hash, key.prefix, key.scopes],
    );
    return row ?? null;
  }

  /** The key with this hash, revoked or not. */
  async byHash(hash: string): Promise<ApiKeyRow | null> {
    const [row] = await queryRows<ApiKeyRow>(this.db, `SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1`, [hash]);
    return row ?? null;
  }

  /** Every key, active ones first, then by name and creation. */
  list(): Promise<ApiKeyRow[]> {
    return queryRows<ApiKeyRow>(
      this.db,
      `SELECT ${COLUMNS} FROM api_keys ORDER BY revoked_at IS NOT NULL, name, created_at`,
    );
  }

  /** Revokes the active key of that name; the revoked row, or null when there was none. */
  async revoke(name: string): Promise<ApiKeyRow | null> {
    const [row] = await queryRows<ApiKeyRow>(
      this.db,
      `UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
      [name],
    );
    return row ?? null;
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.db.query(`UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, [id, at]);
  }
}
