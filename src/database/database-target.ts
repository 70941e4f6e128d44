import { Client } from 'pg';
import { settingName } from '../config/settings.loader';
import type { Settings } from '../config/settings.schema';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded/embedded-postgres';
import type { OwnerRole } from './embedded/instance-state';

/** The database cannot be reached; the message is one line naming the setting (e.g. DATABASE_URL). */
export class DatabaseConnectionError extends Error {
  override readonly name = 'DatabaseConnectionError';
}

/** Where this process keeps its data: the configured server, or the embedded one of the data directory. */
export interface DatabaseTarget {
  readonly url: string;
  /** The URL without its password, for logs. */
  readonly displayUrl: string;
  /** Set when running on the embedded PostgreSQL. */
  readonly embedded: EmbeddedPostgres | null;
  /** Stops the embedded server if this process started it; otherwise does nothing. */
  release(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** `serve` for the service; `cli` for one-shot commands (they share a running service's embedded server). */
  readonly role: OwnerRole;
  readonly log?: (message: string) => void;
  /** How long to try the configured server before failing; default 10 s. */
  readonly connectTimeoutMs?: number;
}

/**
 * Resolves the database the same way for the service and every CLI command: `DATABASE_URL` (or
 * `database.url`) when set, checked by connecting once; otherwise the embedded PostgreSQL under
 * `FLAMEBILL_DATA_DIR`, shared with a flamebill process that already runs it.
 * @throws DatabaseConnectionError when the configured server cannot be reached.
 */
export async function openDatabaseTarget(settings: Settings, options: OpenDatabaseOptions): Promise<DatabaseTarget> {
  const url = settings.database.url;
  if (url) {
    await assertReachable(url, settingName(settings, 'database.url'), options.connectTimeoutMs ?? 10_000);
    return { url, displayUrl: redactUrl(url), embedded: null, release: async () => undefined };
  }
  const embedded = await startEmbeddedPostgres({
    dataDir: settings.paths.dataDir,
    role: options.role,
    ...(options.log ? { log: options.log } : {}),
  });
  return { url: embedded.url, displayUrl: redactUrl(embedded.url), embedded, release: () => embedded.stop() };
}

/** Connects once and runs `SELECT 1`, so a wrong URL fails with one clear line before anything else starts. */
export async function assertReachable(url: string, setting: string, timeoutMs: number): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined); // a late socket error after a failed connect must not crash the process
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new DatabaseConnectionError(
      `cannot connect to the database at ${setting} (${redactUrl(url)}): ${describeConnectError(error)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `postgres://user:***@host:port/db`: safe to print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function describeConnectError(error: unknown): string {
  // Node reports "localhost" (two addresses) failures as an AggregateError with an empty message.
  const first = error instanceof AggregateError && error.errors.length > 0 ? (error.errors[0] as unknown) : error;
  const message = first instanceof Error ? first.message : String(first);
  return (message || (first as { code?: string }).code || 'unknown error').split('\n')[0] ?? 'unknown error';
}
