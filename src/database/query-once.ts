import { Client } from 'pg';

/**
 * Runs one statement on its own connection and closes it: for statements that cannot run inside a pool's
 * session or a transaction, such as CREATE DATABASE and DROP DATABASE (test setup, benchmarks).
 */
export async function queryOnce<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, [...params])).rows as T[];
  } finally {
    await client.end();
  }
}
