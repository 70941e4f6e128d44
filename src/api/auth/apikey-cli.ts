import { loadSettings } from '../../config/settings.loader';
import { openCliDatabase } from '../../database/open-database';
import { createCliLogger } from '../../logging/root-logger';
import { ApiKeyRepository, type ApiKeyRow } from './api-key.repository';
import { ApiKeyError, ApiKeyService } from './api-key.service';

/** Runs `fn` with the key service on the database the service uses; a refused request exits 1 with its reason. */
async function withKeys<T>(fn: (keys: ApiKeyService) => Promise<T>): Promise<T | undefined> {
  const settings = loadSettings();
  const logger = createCliLogger(settings.logging.level === 'info' ? 'warn' : settings.logging.level);
  const database = await openCliDatabase(settings, logger, 'flamebill-apikey');
  try {
    return await fn(new ApiKeyService(new ApiKeyRepository(database.dataSource)));
  } catch (error) {
    if (!(error instanceof ApiKeyError)) throw error;
    process.stderr.write(`flamebill apikey: ${error.message}\n`);
    process.exitCode = 1;
    return undefined;
  } finally {
    await database.close();
  }
}

export async function createApiKey(name: string, scopes: string[]): Promise<void> {
  await withKeys(async (keys) => {
    const { key, row } = await keys.create(name, scopes);
    process.stdout.write(
      `created API key "${row.name}" with scopes ${row.scopes.join(',')}; it is shown only now:\n${key}\n`,
    );
  });
}

export async function listApiKeys(json: boolean): Promise<void> {
  await withKeys(async (keys) => {
    const rows = await keys.list();
    if (json) {
      process.stdout.write(`${JSON.stringify(rows.map(view))}\n`);
      return;
    }
    for (const r of rows) {
      const v = view(r);
      process.stdout.write(
        `${v.name}\t${v.prefix}…\t${v.scopes.join(',')}\tcreated ${v.createdAt}\tlast used ${v.lastUsedAt ?? 'never'}${v.revokedAt ? `\trevoked ${v.revokedAt}` : ''}\n`,
      );
    }
  });
}

export async function revokeApiKey(name: string): Promise<void> {
  await withKeys(async (keys) => {
    const row = await keys.revoke(name);
    process.stdout.write(`revoked API key "${row.name}" (${row.prefix}…)\n`);
  });
}

function view(r: ApiKeyRow) {
  return {
    name: r.name,
    prefix: r.prefix,
    scopes: r.scopes,
    createdAt: r.createdAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
  };
}
