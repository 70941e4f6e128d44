import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs one SQL statement and returns its rows, whatever the statement. Plain `query()` on TypeORM's
 * PostgreSQL driver returns `[rows, rowCount]` for UPDATE and DELETE (with or without RETURNING)
 * but the rows alone for SELECT and INSERT; this hides the difference.
 */
export async function queryRows<T>(
  db: DataSource | EntityManager,
  sql: string,
  parameters: readonly unknown[] = [],
): Promise<T[]> {
  const result: unknown = await db.query(sql, [...parameters]);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}
