import type { DataSource } from 'typeorm';
import { queryRows } from '../database/query-rows';

/** Names per round trip: keeps each statement's parameter well under PostgreSQL's limits. */
const CHUNK = 50_000;

/**
 * `cost_functions`: function name ↔ small integer id, so function facts store 4 bytes instead of the name.
 * New names are inserted in their own autocommitted statements (not in the caller's transaction): an id, once
 * handed out, exists whatever happens to the transaction that asked for it, so the in-process cache can never
 * hold an id that was rolled back. Unused names are harmless.
 */
export class FunctionDictionary {
  private readonly ids = new Map<string, number>();
  private readonly names = new Map<number, string>();

  constructor(private readonly db: DataSource) {}

  /** Ids of `names`, inserting the ones never seen. */
  async idsOf(names: Iterable<string>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing: string[] = [];
    for (const name of names) {
      const id = this.ids.get(name);
      if (id === undefined) missing.push(name);
      else out.set(name, id);
    }
    missing.sort(); // new names go into the unique index in order: far fewer random page visits
    for (let i = 0; i < missing.length; i += CHUNK) {
      const chunk = missing.slice(i, i + CHUNK);
      await this.fetch(chunk);
      // A name inserted by another session after this statement's snapshot is neither inserted nor seen: ask again.
      const late = chunk.filter((name) => !this.ids.has(name));
      if (late.length > 0) await this.fetch(late);
      for (const name of chunk) {
        const id = this.ids.get(name);
        if (id === undefined) throw new Error(`cost_functions has no id for "${name}"`);
        out.set(name, id);
      }
    }
    return out;
  }

  private async fetch(names: readonly string[]): Promise<void> {
    const rows = await queryRows<{ id: number; name: string }>(
      this.db,
      `WITH input AS (SELECT DISTINCT unnest($1::text[]) AS name),
       ins AS (INSERT INTO cost_functions (name) SELECT name FROM input ON CONFLICT (name) DO NOTHING RETURNING id, name)
       SELECT id, name FROM ins
       UNION ALL
       SELECT f.id, f.name FROM cost_functions f JOIN input USING (name)`,
      [names],
    );
    for (const { id, name } of rows) this.remember(id, name);
  }

  /** Names of `ids` (for leaderboards); unknown ids are left out. */
  async namesOf(ids: Iterable<number>): Promise<Map<number, string>> {
    const wanted = [...new Set(ids)];
    const missing = wanted.filter((id) => !this.names.has(id));
    if (missing.length > 0) {
      const rows = await queryRows<{ id: number; name: string }>(this.db, `SELECT id, name FROM cost_functions WHERE id = ANY($1::int[])`, [missing]);
      for (const { id, name } of rows) this.remember(id, name);
    }
    return new Map(wanted.filter((id) => this.names.has(id)).map((id) => [id, this.names.get(id) as string]));
  }

  private remember(id: number, name: string): void {
    this.ids.set(name, id);
    this.names.set(id, name);
  }
}
