import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main';
import { testDatabaseUrl } from '../support/database';
import { cliEnv, ensureBuilt, runCli } from '../support/cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'flamebill-cli-'));

beforeAll(() => ensureBuilt(), 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `flamebill serve` expecting it to refuse to start; returns its single stderr line. */
async function serveFailure(env: Record<string, string>): Promise<string> {
  const result = await runCli(['serve'], {
    env: cliEnv({ FLAMEBILL_DATA_DIR: path.join(dir, 'data'), ...env }),
    cwd: dir,
    timeoutMs: 30_000,
  });
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((line) => line.length > 0);
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('flamebill serve with a wrong setting exits 1 with one line naming it', () => {
  it('negative PORT', async () => {
    expect(await serveFailure({ PORT: '-1' })).toBe(
      'flamebill: invalid setting PORT (environment variable): Too small: expected number to be >=0 (got "-1")',
    );
  });

  it('unknown key in the settings file, with its line', async () => {
    writeFileSync(path.join(dir, 'typo.yaml'), 'server:\n  port: 3000\ndatabse:\n  url: postgres://x@y/z\n');
    expect(await serveFailure({ FLAMEBILL_CONFIG: 'typo.yaml' })).toBe(
      'flamebill: invalid setting databse (typo.yaml:3:1): unknown key',
    );
  });

  it('unreachable DATABASE_URL, without its password', async () => {
    const line = await serveFailure({ DATABASE_URL: 'postgres://flamebill:s3cret@127.0.0.1:1/flamebill' });
    expect(line).toBe(
      'flamebill: cannot connect to the database at DATABASE_URL (postgres://flamebill:***@127.0.0.1:1/flamebill): connect ECONNREFUSED 127.0.0.1:1',
    );
  });
});

describe('flamebill CLI', () => {
  it('lists every registered command in its help', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    const names = buildProgram().commands.map((command) => command.name());
    expect(names).toEqual(expect.arrayContaining(['serve', 'migrate']));
    for (const name of names) expect(result.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
  });

  it('migrate reports an up-to-date database and lists migrations with --status', async () => {
    const env = cliEnv({ DATABASE_URL: await testDatabaseUrl() });
    const migrate = await runCli(['migrate'], { env, cwd: dir });
    expect(migrate.stderr).toBe('');
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toMatch(/^database postgres:\/\/.+ is up to date \(\d+ migrations\)\n$/);
    const status = await runCli(['migrate', '--status'], { env, cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^applied {2}InitialSchema1795318535842$/m);
    expect(status.stdout).not.toMatch(/^pending/m);
  });
});
