import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.loader';
import { SettingsError } from '../../src/config/settings.error';

const dir = mkdtempSync(path.join(os.tmpdir(), 'flamebill-settings-'));

function file(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return name;
}

/** The one-line message of the SettingsError that loading throws. */
function errorOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a SettingsError');
}

describe('loadSettings', () => {
  it('applies defaults when there is no file and no environment', () => {
    const settings = loadSettings({ env: {}, cwd: dir });
    expect(settings.server).toEqual({ port: 3000, host: '0.0.0.0' });
    expect(settings.database).toEqual({ migrateOnStart: true, poolSize: 10 });
    expect(settings.logging.level).toBe('info');
    expect(settings.paths).toEqual({ dataDir: path.join(dir, 'data'), catalogDir: path.join(dir, 'catalog') });
    expect(settings.configFile).toBeNull();
  });

  it('reads the file named by FLAMEBILL_CONFIG and lets environment variables win', () => {
    const name = file(
      'ok.yaml',
      'server:\n  port: 8080\n  host: 127.0.0.1\nlogging:\n  level: debug\nlabels:\n  keys: [env, k8s.namespace]\n',
    );
    const settings = loadSettings({
      env: { FLAMEBILL_CONFIG: name, PORT: '9090', FLAMEBILL_DATA_DIR: '/var/lib/fb' },
      cwd: dir,
    });
    expect(settings.server).toEqual({ port: 9090, host: '127.0.0.1' });
    expect(settings.logging.level).toBe('debug');
    expect(settings.labels.keys).toEqual(['env', 'k8s.namespace']);
    expect(settings.paths.dataDir).toBe('/var/lib/fb');
    expect(settings.configFile).toBe(path.join(dir, name));
    expect(settings.envSources).toEqual({ 'server.port': 'PORT', 'paths.dataDir': 'FLAMEBILL_DATA_DIR' });
  });

  it('reads ./flamebill.yaml by default', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'flamebill-cwd-'));
    writeFileSync(path.join(cwd, 'flamebill.yaml'), 'database:\n  poolSize: 3\n');
    expect(loadSettings({ env: {}, cwd }).database.poolSize).toBe(3);
  });

  it('treats empty environment variables as unset', () => {
    expect(loadSettings({ env: { PORT: '', DATABASE_URL: ' ' }, cwd: dir }).server.port).toBe(3000);
  });

  it("validates the sources section with its owner's schema and names the missing key", () => {
    const name = file('sources.yaml', 'sources:\n  - kind: pyroscope\n    url: http://x\n');
    expect(errorOf(() => loadSettings({ env: { FLAMEBILL_CONFIG: name }, cwd: dir }))).toMatch(
      /^invalid setting sources\[0\]\.name \(sources\.yaml:2:\d+\): /,
    );
  });

  it('rejects a schedule that is not a cron expression, naming the key', () => {
    const name = file('cron.yaml', 'schedules:\n  pull: every hour\n');
    expect(errorOf(() => loadSettings({ env: { FLAMEBILL_CONFIG: name }, cwd: dir }))).toMatch(
      /^invalid setting schedules\.pull \(cron\.yaml:2:9\): not a cron expression/,
    );
  });

  it('names the variable of a negative PORT and echoes its value', () => {
    expect(errorOf(() => loadSettings({ env: { PORT: '-1' }, cwd: dir }))).toBe(
      'invalid setting PORT (environment variable): Too small: expected number to be >=0 (got "-1")',
    );
  });

  it('names file, line and column of a wrong value', () => {
    const name = file('negative.yaml', '# comment\nserver:\n  port: -5\n');
    expect(errorOf(() => loadSettings({ env: { FLAMEBILL_CONFIG: name }, cwd: dir }))).toBe(
      'invalid setting server.port (negative.yaml:3:9): Too small: expected number to be >=0',
    );
  });

  it('rejects an unknown key at the line of the key, nested or at the top', () => {
    const nested = file('typo.yaml', 'server:\n  port: 1\n  prot: 2\n');
    expect(errorOf(() => loadSettings({ env: { FLAMEBILL_CONFIG: nested }, cwd: dir }))).toBe(
      'invalid setting server.prot (typo.yaml:3:3): unknown key',
    );
    const top = file('top.yaml', 'logging: {}\nsevrer:\n  port: 1\n');
    expect(errorOf(() => loadSettings({ env: { FLAMEBILL_CONFIG: top }, cwd: dir }))).toBe(
      'invalid setting sevrer (top.yaml:2:1): unknown key',
    );
  });

  it('points into lists', () => {
    const name = file('labels.yaml', 'labels:\n  keys:\n    - env\n    - "bad key"\n');
    expect(errorOf(() => loadSettings({ env: { FLAMEBILL_CONFIG: name }, cwd: dir }))).toBe(
      'invalid setting labels.keys[1] (labels.yaml:4:7): expected a label name such as env or k8s.namespace',
    );
  });

  it('reports YAML syntax errors with their position', () => {
    const name = file('broken.yaml', 'server:\n  port: [1\n');
    expect(errorOf(() => loadSettings({ env: { FLAMEBILL_CONFIG: name }, cwd: dir }))).toMatch(
      /^cannot parse settings file broken\.yaml:\d+:\d+: /,
    );
  });

  it('rejects duplicate keys instead of keeping the last one', () => {
    const name = file('dup.yaml', 'server:\n  port: 1\n  port: 2\n');
    expect(errorOf(() => loadSettings({ env: { FLAMEBILL_CONFIG: name }, cwd: dir }))).toMatch(
      /^cannot parse settings file dup\.yaml:3:3: /,
    );
  });

  it('fails when FLAMEBILL_CONFIG names a missing file', () => {
    expect(errorOf(() => loadSettings({ env: { FLAMEBILL_CONFIG: 'nope.yaml' }, cwd: dir }))).toBe(
      `invalid setting FLAMEBILL_CONFIG (environment variable): file not found: ${path.join(dir, 'nope.yaml')}`,
    );
  });

  it('does not echo DATABASE_URL, which may hold a password', () => {
    const message = errorOf(() => loadSettings({ env: { DATABASE_URL: 'mysql://root:hunter2@db/x' }, cwd: dir }));
    expect(message).toBe(
      'invalid setting DATABASE_URL (environment variable): expected a URL like postgres://user:password@host:5432/database',
    );
  });

  it('counts further problems on the same line', () => {
    const name = file('many.yaml', 'server:\n  port: -1\n  host: ""\nlogging:\n  level: loud\n');
    expect(errorOf(() => loadSettings({ env: { FLAMEBILL_CONFIG: name }, cwd: dir }))).toMatch(
      / \(and 2 more problems\)$/,
    );
  });

  it('reports overrides as such', () => {
    expect(
      errorOf(() => loadSettings({ env: {}, cwd: dir, configFile: null, overrides: { database: { poolSize: 0 } } })),
    ).toBe('invalid setting database.poolSize (override): Too small: expected number to be >=1');
  });

  it('rejects a file that is not a mapping', () => {
    const name = file('list.yaml', '- a\n- b\n');
    expect(errorOf(() => loadSettings({ env: { FLAMEBILL_CONFIG: name }, cwd: dir }))).toBe(
      'invalid settings file list.yaml:1:1: expected a mapping of sections (server, database, ...)',
    );
  });
});
