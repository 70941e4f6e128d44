import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../support/cli';

const DIR = path.join(__dirname, '..', 'fixtures', 'regressions');
const file = (name: string) => path.join(DIR, `${name}.pb.gz`);

interface DiffJson {
  regressions: Array<{
    function: string;
    kind: string;
    baseShare: number;
    currentShare: number;
    pValue: number;
    cpuNanosecondsDelta: number;
  }>;
}

describe('flamebill diff (real CLI)', () => {
  beforeAll(() => ensureBuilt(), 180_000);

  it('--json lists the regressed function first with its figures', async () => {
    const r = await runCli(['diff', file('v1-a'), file('v2-quadratic'), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as DiffJson;
    expect(out.regressions[0]).toMatchObject({ function: 'main.dedupeTags', kind: 'cum' });
    const first = out.regressions[0]!;
    expect(Object.keys(first)).toEqual([
      'function',
      'kind',
      'baseShare',
      'currentShare',
      'pValue',
      'cpuNanosecondsDelta',
    ]);
    expect(first.currentShare).toBeGreaterThan(first.baseShare);
    expect(first.pValue).toBeLessThan(0.01);
    expect(first.cpuNanosecondsDelta).toBeGreaterThan(0);
  }, 60_000);

  it('a file against itself and a null pair print an empty list', async () => {
    for (const [a, b] of [
      ['v1-a', 'v1-a'],
      ['v1-a', 'v1-2x'],
    ] as const) {
      const r = await runCli(['diff', file(a), file(b), '--json']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('{"regressions":[]}\n');
    }
  }, 60_000);

  it('without --json prints a table; --sample-type picks the sample type; errors name the file', async () => {
    const table = await runCli(['diff', file('v1-a'), file('v2-regex'), '--sample-type', 'samples']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Type: samples\/count; 1 regression/);
    expect(table.stdout).toMatch(/cum\s+main\.validateEmail/);
    const missing = await runCli(['diff', file('v1-a'), path.join(DIR, 'nope.pb.gz')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.pb.gz');
  }, 60_000);
});
