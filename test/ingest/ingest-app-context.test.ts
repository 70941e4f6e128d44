import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.loader';
import { IngestService } from '../../src/ingest/ingest.service';
import { createAppContext } from '../../src/server/bootstrap';
import { testDatabaseUrl } from '../support/database';

describe('IngestModule without HTTP (CLI job contexts)', () => {
  it('starts without the ingest token variables, which only `serve` needs', async () => {
    const databaseUrl = await testDatabaseUrl();
    const settings = loadSettings({
      env: {},
      configFile: null,
      overrides: {
        database: { url: databaseUrl },
        schedules: { enabled: false, demo: false },
        ingest: { tenants: [{ name: 'x', tokenEnv: 'FLAMEBILL_CONTEXT_TEST_UNSET_TOKEN' }] },
      },
    });
    const context = await createAppContext({
      settings,
      databaseUrl,
      logger: pino({ level: 'silent' }),
      migrateOnStart: false,
    });
    try {
      expect(context.get(IngestService)).toBeInstanceOf(IngestService);
    } finally {
      await context.close();
    }
  });
});
