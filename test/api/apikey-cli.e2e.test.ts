import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from '../support/database';
import { cliEnv, ensureBuilt, runCli } from '../support/cli';
import { startApiApp, type ApiTestApp } from './support';

let app: ApiTestApp;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  await ensureBuilt();
  app = await startApiApp();
  env = cliEnv({ DATABASE_URL: await testDatabaseUrl() });
}, 180_000);
afterAll(() => app?.close());

describe('flamebill apikey', () => {
  it('create prints the key once as the last word; the key works with its scopes; list never shows it; revoke makes it 401', async () => {
    const created = await runCli(['apikey', 'create', '--name', 'finance-bi', '--scope', 'read,export'], { env });
    expect(created.code).toBe(0);
    const key = created.stdout.trim().split(/\s+/).at(-1)!;
    expect(key).toMatch(/^fbk_[A-Za-z0-9_-]{43}$/);
    expect((await app.get('/api/v1/costs?from=2026-11-21&to=2026-11-22', key)).status).toBe(200);
    expect((await app.get('/api/v1/audit', key)).status).toBe(403);

    const again = await runCli(['apikey', 'create', '--name', 'finance-bi'], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('an active key named "finance-bi" exists');
    const badScope = await runCli(['apikey', 'create', '--name', 'x', '--scope', 'root'], { env });
    expect([badScope.code, badScope.stderr.trim()]).toEqual([
      1,
      'flamebill apikey: scope must be one or more of read, export, admin (got root)',
    ]);

    const list = await runCli(['apikey', 'list', '--json'], { env });
    expect(list.stdout).not.toContain(key.slice(8));
    expect(JSON.parse(list.stdout)).toContainEqual(
      expect.objectContaining({
        name: 'finance-bi',
        prefix: key.slice(0, 8),
        scopes: ['export', 'read'],
        revokedAt: null,
      }),
    );
    const table = await runCli(['apikey', 'list'], { env });
    expect(table.stdout).toMatch(/^finance-bi\tfbk_\S+…\texport,read\tcreated /m);

    const revoked = await runCli(['apikey', 'revoke', 'finance-bi'], { env });
    expect(revoked.code).toBe(0);
    expect((await app.get('/api/v1/costs?from=2026-11-21&to=2026-11-22', key)).status).toBe(401);
    expect((await runCli(['apikey', 'revoke', 'finance-bi'], { env })).code).toBe(1);
    // The name is free again once revoked.
    expect((await runCli(['apikey', 'create', '--name', 'finance-bi'], { env })).code).toBe(0);
  }, 120_000);
});
