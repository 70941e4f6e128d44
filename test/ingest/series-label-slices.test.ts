import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applySeriesLabels } from '../../src/domain/ingest/series-label-slices';
import { foldProfile } from '../../src/domain/profile';

// A real Node profile whose workload samples carry version=v1 and whose other samples (idle, GC) carry none.
const NODE_A = readFileSync(join(__dirname, '../fixtures/trees/node-a.pb.gz'));

describe('applySeriesLabels', () => {
  it("merges the slices a tag makes equal, adding flat and cum exactly: the merged slice is the profile's whole fold", () => {
    const sliced = foldProfile(NODE_A, { labelKeys: ['version'], sampleType: 'cpu' });
    expect(sliced.slices!.map((s) => s.labels)).toEqual([{}, { version: 'v1' }]);
    const whole = foldProfile(NODE_A, { sampleType: 'cpu' });
    const tagged = applySeriesLabels(sliced, { version: 'v1', env: 'prod' }, ['version']);
    expect(tagged.slices!.map((s) => [s.labels, s.total])).toEqual([[{ version: 'v1' }, whole.total]]);
    expect(tagged.slices![0]!.functions).toEqual(whole.functions);
  });

  it('leaves a fold alone when no tag is a configured key, or when the fold is not sliced', () => {
    const sliced = foldProfile(NODE_A, { labelKeys: ['version'], sampleType: 'cpu' });
    expect(applySeriesLabels(sliced, { env: 'prod' }, ['version'])).toBe(sliced);
    const plain = foldProfile(NODE_A, { sampleType: 'cpu' });
    expect(applySeriesLabels(plain, { version: 'x' }, ['version'])).toBe(plain);
  });
});
