import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { queryRows } from '../database/query-rows';
import type { DayBlock, TopBoard, TopLine } from './function-day-state';

/** Part rows per INSERT statement (7 parameters each). */
const PART_ROWS_PER_STATEMENT = 300;

/**
 * Entries per part row of a block (migration FunctionDayBlockParts): a function's slice (the cross-service view, a
 * board line missing from the lists) detoasts only the parts whose function range holds it, not the whole block.
 */
export const BLOCK_PART_ENTRIES = 4096;

/** What `cost_function_day_states` says about a day. */
export interface DayStateRow {
  /** Changes with every write of the day's facts; '' for a day with no facts yet. */
  readonly token: string;
}

/**
 * The daily function facts' tables (`cost_function_day_blocks`, `_tops`, `_states`; see the migration
 * FunctionDayBlocks). Every method takes the caller's transaction.
 */
@Injectable()
export class FunctionDayRepository {
  /**
   * Locks the day's state row for the rest of the transaction (creating it when missing), so attributions of
   * windows of one day apply their changes one at a time, and returns it.
   */
  async lockDay(tx: EntityManager, day: string): Promise<DayStateRow> {
    await tx.query(
      `INSERT INTO cost_function_day_states (day, token, pairs, functions, top_size) VALUES ($1::date, '', 0, 0, 0) ON CONFLICT (day) DO NOTHING`,
      [day],
    );
    const [row] = await queryRows<{ token: string }>(
      tx,
      `SELECT token FROM cost_function_day_states WHERE day = $1::date FOR UPDATE`,
      [day],
    );
    if (!row) throw new Error(`cost_function_day_states has no row for ${day} after inserting it`);
    return { token: row.token };
  }

  /** Every block of the day, its part rows joined again. */
  async readBlocks(tx: EntityManager, day: string): Promise<DayBlock[]> {
    // Arrays as comma-separated text: parsed here far faster than the driver's generic array parser.
    const rows = await queryRows<{ block: number; s: string; f: string; x: string; c: string }>(
      tx,
      `SELECT block, array_to_string(service_ids, ',') AS s, array_to_string(function_ids, ',') AS f,
              array_to_string(self_microdollars, ',') AS x, array_to_string(cum_microdollars, ',') AS c
         FROM cost_function_day_blocks WHERE day = $1::date ORDER BY block, part`,
      [day],
    );
    const out: DayBlock[] = [];
    for (let i = 0; i < rows.length;) {
      const block = rows[i]!.block;
      let end = i + 1;
      while (end < rows.length && rows[end]!.block === block) end++;
      const parts = rows.slice(i, end);
      const join = (column: 's' | 'f' | 'x' | 'c') =>
        parts
          .map((r) => r[column])
          .join(',')
          .split(',');
      out.push({
        block,
        serviceIds: Int32Array.from(join('s'), Number),
        functionIds: Int32Array.from(join('f'), Number),
        self: BigInt64Array.from(join('x'), BigInt),
        cum: BigInt64Array.from(join('c'), BigInt),
      });
      i = end;
    }
    return out;
  }

  /** Replaces the day's rows of the `touched` blocks by `blocks` (a touched block absent from `blocks` is deleted). */
  async writeBlocks(
    tx: EntityManager,
    day: string,
    touched: ReadonlySet<number>,
    blocks: readonly DayBlock[],
  ): Promise<void> {
    if (touched.size === 0) return;
    await tx.query(`DELETE FROM cost_function_day_blocks WHERE day = $1::date AND block = ANY($2::int[])`, [
      day,
      [...touched],
    ]);
    const parts = blocks.flatMap((b) => {
      const out = [];
      for (let at = 0, part = 0; at < b.functionIds.length; at += BLOCK_PART_ENTRIES, part++) {
        const end = Math.min(at + BLOCK_PART_ENTRIES, b.functionIds.length);
        out.push({
          block: b.block,
          part,
          serviceIds: b.serviceIds.subarray(at, end),
          functionIds: b.functionIds.subarray(at, end),
          self: b.self.subarray(at, end),
          cum: b.cum.subarray(at, end),
        });
      }
      return out;
    });
    for (let i = 0; i < parts.length; i += PART_ROWS_PER_STATEMENT) {
      const chunk = parts.slice(i, i + PART_ROWS_PER_STATEMENT);
      const params: unknown[] = [day];
      const values = chunk.map((b) => {
        // Array literals built here and passed as plain text parameters: no per-element quoting by the driver.
        params.push(
          b.block,
          b.part,
          `{${b.serviceIds.join(',')}}`,
          `{${b.functionIds.join(',')}}`,
          `{${b.self.join(',')}}`,
          `{${b.cum.join(',')}}`,
        );
        const p = params.length;
        return `($1::date, $${p - 5}::int, $${p - 4}::int, $${p - 3}::int[], $${p - 2}::int[], $${p - 1}::bigint[], $${p}::bigint[])`;
      });
      await tx.query(
        `INSERT INTO cost_function_day_blocks (day, block, part, service_ids, function_ids, self_microdollars, cum_microdollars) VALUES ${values.join(', ')}`,
        params,
      );
    }
  }

  /** Replaces the day's board lists and its state row (a new token); a day left with no entry loses all three. */
  async writeTopsAndState(
    tx: EntityManager,
    day: string,
    state: {
      token: string;
      pairs: number;
      functions: number;
      topSize: number;
      boards: Record<TopBoard, readonly TopLine[]>;
    },
  ): Promise<void> {
    await tx.query(`DELETE FROM cost_function_day_tops WHERE day = $1::date`, [day]);
    if (state.pairs === 0) {
      await tx.query(`DELETE FROM cost_function_day_states WHERE day = $1::date`, [day]);
      return;
    }
    const lines = (Object.entries(state.boards) as Array<[TopBoard, readonly TopLine[]]>).flatMap(([board, list]) =>
      list.map((l, i) => ({ board, rank: i + 1, ...l })),
    );
    await tx.query(
      `INSERT INTO cost_function_day_tops (day, board, rank, service_id, function_id, self_microdollars, cum_microdollars, services)
       SELECT $1::date, * FROM unnest($2::text[], $3::int[], $4::int[], $5::int[], $6::bigint[], $7::bigint[], $8::int[])`,
      [
        day,
        lines.map((l) => l.board),
        lines.map((l) => l.rank),
        lines.map((l) => l.serviceId),
        lines.map((l) => l.functionId),
        lines.map((l) => l.self.toString()),
        lines.map((l) => l.cum.toString()),
        lines.map((l) => l.services),
      ],
    );
    await tx.query(
      `UPDATE cost_function_day_states SET token = $2, pairs = $3, functions = $4, top_size = $5 WHERE day = $1::date`,
      [day, state.token, state.pairs, state.functions, state.topSize],
    );
  }
}
