import type { DataSource } from 'typeorm';
import { queryRows } from '../database/query-rows';

/** Names per round trip: keeps each statement's parameter well under PostgreSQL's limits. */
const CHUNK = 50_000;

/**
 * One name ↔ small integer id table (`cost_functions`, `cost_services`), cached in process. New names are inserted
 * in their own autocommitted statements (not in the caller's transaction): an id, once handed out, exists whatever
 * happens to the transaction that asked for it, so the cache can never hold an id that was rolled back. Unused
 * names are harmless.
 */
class NameTable {
  private readonly ids = new Map<string, number>();
  private readonly names = new Map<number, string>();

  constructor(
    private readonly db: DataSource,
    private readonly table: 'cost_functions' | 'cost_services',
  ) {}

  /** Makes `idOf` answer for every name of `names`, inserting the ones never seen. */
  async ensure(names: Iterable<string>): Promise<void> {
    const missing = new Set<string>();
    for (const name of names) if (!this.ids.has(name)) missing.add(name);
    const sorted = [...missing].sort(); // new names go into the unique index in order: far fewer random page visits
    for (let i = 0; i < sorted.length; i += CHUNK) {
      const chunk = sorted.slice(i, i + CHUNK);
      await this.fetch(chunk);
      // A name inserted by another session after this statement's snapshot is neither inserted nor seen: ask again.
      const late = chunk.filter((name) => !this.ids.has(name));
      if (late.length > 0) await this.fetch(late);
      for (const name of chunk) if (!this.ids.has(name)) throw new Error(`${this.table} has no id for "${name}"`);
    }
  }

  /** The id of a name `ensure` has seen. */
  idOf(name: string): number {
    const id = this.ids.get(name);
    if (id === undefined) throw new Error(`${this.table}: no id known for "${name}" (call ensure first)`);
    return id;
  }

  async idsOf(names: Iterable<string>): Promise<Map<string, number>> {
    const wanted = [...names];
    await this.ensure(wanted);
    return new Map(wanted.map((name) => [name, this.idOf(name)]));
  }

  /** Names of `ids`; unknown ids are left out. */
  async namesOf(ids: Iterable<number>): Promise<Map<number, string>> {
    const wanted = [...new Set(ids)];
    const missing = wanted.filter((id) => !this.names.has(id));
    if (missing.length > 0) {
      const rows = await queryRows<{ id: number; name: string }>(
        this.db,
        `SELECT id, name FROM ${this.table} WHERE id = ANY($1::int[])`,
        [missing],
      );
      for (const { id, name } of rows) this.remember(id, name);
    }
    return new Map(wanted.filter((id) => this.names.has(id)).map((id) => [id, this.names.get(id) as string]));
  }

  private async fetch(names: readonly string[]): Promise<void> {
    const rows = await queryRows<{ id: number; name: string }>(
      this.db,
      `WITH input AS (SELECT DISTINCT unnest($1::text[]) AS name),
       ins AS (INSERT INTO ${this.table} (name) SELECT name FROM input ORDER BY name ON CONFLICT (name) DO NOTHING RETURNING id, name)
       SELECT id, name FROM ins
       UNION ALL
       SELECT f.id, f.name FROM ${this.table} f JOIN input USING (name)`,
      [names],
    );
    for (const { id, name } of rows) this.remember(id, name);
  }

  private remember(id: number, name: string): void {
    this.ids.set(name, id);
    this.names.set(id, name);
  }
}

/**
 * `cost_functions` (function name ↔ id, so function facts store 4 bytes instead of the name) and `cost_services`
 * (service name ↔ id, for the daily function blocks), each cached in process.
 */
export class FunctionDictionary {
  private readonly functions: NameTable;
  /** Service names of the daily function facts. */
  readonly services: NameTable;

  constructor(db: DataSource) {
    this.functions = new NameTable(db, 'cost_functions');
    this.services = new NameTable(db, 'cost_services');
  }

  /** Makes `idOf` answer for every function name of `names`, inserting the ones never seen. */
  ensure(names: Iterable<string>): Promise<void> {
    return this.functions.ensure(names);
  }

  /** The id of a function name `ensure` has seen. */
  idOf(name: string): number {
    return this.functions.idOf(name);
  }

  /** Ids of `names`, inserting the ones never seen. */
  idsOf(names: Iterable<string>): Promise<Map<string, number>> {
    return this.functions.idsOf(names);
  }

  /** Names of function `ids` (for leaderboards); unknown ids are left out. */
  namesOf(ids: Iterable<number>): Promise<Map<number, string>> {
    return this.functions.namesOf(ids);
  }
}
