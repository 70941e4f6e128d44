import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { ApiKeyRepository, SCOPES, type ApiKeyRow, type Scope } from './api-key.repository';

/** A key's name: what `apikey revoke` and the audit log use. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** `fbk_` then 43 base64url characters (32 random bytes). */
const KEY = /^fbk_[A-Za-z0-9_-]{43}$/;
/** `last_used_at` is written at most this often per key: a read request should not be a write. */
const TOUCH_EVERY_MS = 60_000;

export class ApiKeyError extends Error {}

/** Creates, lists, revokes and checks API keys. The key is shown once, at creation; only its hash is kept. */
@Injectable()
export class ApiKeyService {
  private readonly touched = new Map<string, number>();

  constructor(private readonly keys: ApiKeyRepository) {}

  /** A new key with these scopes; `key` is the secret to hand over (never stored, never logged). */
  async create(name: string, scopes: readonly string[]): Promise<{ key: string; row: ApiKeyRow }> {
    if (!NAME.test(name))
      throw new ApiKeyError(`name must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
    const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (scopes.length === 0 || unknown.length > 0)
      throw new ApiKeyError(
        `scope must be one or more of ${SCOPES.join(', ')}${unknown.length ? ` (got ${unknown.join(', ')})` : ''}`,
      );
    const key = `fbk_${randomBytes(32).toString('base64url')}`;
    const row = await this.keys.insert({
      name,
      hash: hashKey(key),
      prefix: key.slice(0, 8),
      scopes: [...new Set(scopes)].sort() as Scope[],
    });
    if (!row) throw new ApiKeyError(`an active key named "${name}" exists; revoke it first or choose another name`);
    return { key, row };
  }

  list(): Promise<ApiKeyRow[]> {
    return this.keys.list();
  }

  async revoke(name: string): Promise<ApiKeyRow> {
    const row = await this.keys.revoke(name);
    if (!row) throw new ApiKeyError(`no active key named "${name}"`);
    return row;
  }

  /** The active key a bearer token names, or null (malformed, unknown or revoked: the caller cannot tell which). */
  async verify(token: string, now: Date): Promise<ApiKeyRow | null> {
    if (!KEY.test(token)) return null;
    const row = await this.keys.byHash(hashKey(token));
    if (!row || row.revokedAt !== null) return null;
    const last = this.touched.get(row.id) ?? 0;
    if (now.getTime() - last >= TOUCH_EVERY_MS) {
      this.touched.set(row.id, now.getTime());
      await this.keys.touch(row.id, now);
    }
    return row;
  }
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
