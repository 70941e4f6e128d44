import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { registerTopCommand, runTop } from '../../../src/cli/top.command';
import { PROFILES, readRef, REFS } from './corpus';

describe('flamebill top', () => {
  it('--json prints the contract shape, equal to the pprof ref, sorted by flat desc then cum desc then name', async () => {
    const out = await runTop(join(PROFILES, 'grafana-pyroscope/cpu.pprof'), { json: true, sampleType: 'cpu' });
    const exact = JSON.parse(out.replace(/"(total|flat|cum)":(-?\d+)/g, '"$1":"$2"')) as {
      sampleType: string;
      total: string;
      functions: { name: string; flat: string; cum: string }[];
    };
    expect(Object.keys(exact)).toEqual(['sampleType', 'total', 'functions']);
    const ref = readRef(join(REFS, 'grafana-pyroscope/cpu.pprof.cpu.top.json'));
    expect(exact.sampleType).toBe(ref.sampleType);
    expect(BigInt(exact.total)).toBe(ref.total);
    const rows = exact.functions.map((f) => ({ name: f.name, flat: BigInt(f.flat), cum: BigInt(f.cum) }));
    expect(Object.keys(exact.functions[0]!)).toEqual(['name', 'flat', 'cum']);
    expect(new Set(rows.map((r) => `${r.name}=${r.flat}/${r.cum}`))).toEqual(
      new Set(ref.functions.map((r) => `${r.name}=${r.flat}/${r.cum}`)),
    );
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1]!, rows[i]!];
      const ordered = a.flat > b.flat || (a.flat === b.flat && (a.cum > b.cum || (a.cum === b.cum && a.name < b.name)));
      expect(ordered, `${a.name} before ${b.name}`).toBe(true);
    }
  });

  it('prints a pprof-like table by default', async () => {
    const out = await runTop(join(PROFILES, 'google-pprof/sample.cpu'), {});
    expect(out.split('\n').slice(0, 4)).toEqual([
      'Type: cpu/nanoseconds',
      'Showing 14 functions, 1760000000 total',
      '            flat  flat%   sum%               cum   cum%',
      '      1280000000 72.73% 72.73%       1370000000 77.84%  runtime.mapiternext',
    ]);
  });

  it('is registered on the program with --sample-type and --json, and names the file on errors', async () => {
    const program = new Command().exitOverride();
    registerTopCommand(program);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync([
        'node',
        'flamebill',
        'top',
        join(PROFILES, 'google-pprof/sample.cpu'),
        '--sample-type',
        'samples',
        '--json',
      ]);
      expect(String(write.mock.calls[0]![0])).toMatch(
        /^\{"sampleType":"samples\/count","total":176,"functions":\[\{"name":"runtime.mapiternext","flat":128,"cum":137\}/,
      );
    } finally {
      write.mockRestore();
    }
    await expect(runTop(join(PROFILES, 'grafana-pyroscope/dump1.labels.pb.gz'), {})).rejects.toThrow(
      /dump1\.labels\.pb\.gz: pprof: /,
    );
  });
});
