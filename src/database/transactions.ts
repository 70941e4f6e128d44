import type { Pool, PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';

/**
 * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
 * Repositories take the `EntityManager` they are given (`manager.query(sql, params)`) so several of
 * them can share the transaction.
 */
export function inTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  isolation: IsolationLevel = 'READ COMMITTED',
): Promise<T> {
  return dataSource.transaction(isolation, work);
}

/**
 * The node-postgres pool under TypeORM, for work TypeORM has no API for (COPY, multi-row inserts
 * built as one statement, LISTEN). Shares the pool size and credentials of the DataSource.
 */
export function pgPool(dataSource: DataSource): Pool {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!pool) throw new Error('the DataSource is not a PostgreSQL DataSource or is not initialized');
  return pool;
}

/** Borrows a pg client from the DataSource's pool for `work` and always gives it back. */
export async function withPgClient<T>(dataSource: DataSource, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pgPool(dataSource).connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

/** `withPgClient` inside BEGIN/COMMIT, rolled back when `work` throws. */
export function withPgTransaction<T>(dataSource: DataSource, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return withPgClient(dataSource, async (client) => {
    await client.query('BEGIN');
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}
