import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTop } from '../../../../src/cli/top.command';
import { jfrExpectations } from './jfr-oracle';

const FIXTURES = resolve(__dirname, '../../../fixtures/jfr');

describe('flamebill top FILE.jfr[.gz]', () => {
  it('prints the CPU per function of a gzipped JFR recording, equal to grafana/jfr-parser', async () => {
    const out = await runTop(join(FIXTURES, 'example.jfr.gz'), { json: true });
    const json = JSON.parse(out) as {
      sampleType: string;
      total: number;
      functions: { name: string; flat: number; cum: number }[];
    };
    const oracle = jfrExpectations(FIXTURES).find((e) => e.recording === 'example.jfr.gz' && e.sampleType === 'cpu')!;
    expect(json.sampleType).toBe('cpu/nanoseconds');
    expect(BigInt(json.total)).toBe(oracle.total);
    expect(new Map(json.functions.map((f) => [f.name, { flat: BigInt(f.flat), cum: BigInt(f.cum) }]))).toEqual(
      oracle.functions,
    );
  });

  it('takes --sample-type and --sample-rate', async () => {
    const table = await runTop(join(FIXTURES, 'example.jfr.gz'), { sampleType: 'mutex_delay' });
    expect(table.split('\n')[0]).toBe('Type: mutex_delay/nanoseconds');
    const cpu100 = JSON.parse(await runTop(join(FIXTURES, 'wall_tick_sample.jfr.gz'), { json: true })) as {
      total: number;
    };
    const cpu1000 = JSON.parse(
      await runTop(join(FIXTURES, 'wall_tick_sample.jfr.gz'), { json: true, sampleRate: '1000' }),
    ) as { total: number };
    expect(cpu1000.total * 10).toBe(cpu100.total);
    await expect(runTop(join(FIXTURES, 'example.jfr.gz'), { sampleRate: 'x' })).rejects.toThrow(
      /example\.jfr\.gz: --sample-rate must be a positive integer/,
    );
  });
});
