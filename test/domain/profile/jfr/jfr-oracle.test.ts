import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldProfile, type Fold } from '../../../../src/domain/profile';
import { readRef } from '../corpus';
import { jfrExpectations, type JfrExpectation } from './jfr-oracle';

const SHARED_JFR = resolve(__dirname, '../../../../../shared/profiles/grafana-jfr-parser');
const SHARED_PYROSCOPE = resolve(__dirname, '../../../../../shared/profiles/grafana-pyroscope');
const SHARED_REFS = resolve(__dirname, '../../../../../shared/profile-refs/grafana-pyroscope');
const FIXTURES = resolve(__dirname, '../../../fixtures/jfr');

function functionsOf(fold: Fold): Map<string, { flat: bigint; cum: bigint }> {
  return new Map([...fold.functions].map(([name, v]) => [name, { flat: v.flat, cum: v.cum }]));
}

function checkOracle(dir: string, e: JfrExpectation): void {
  const fold = foldProfile(readFileSync(join(dir, e.recording)), { sampleType: e.sampleType });
  expect(fold.format).toBe('jfr');
  expect(fold.sampleType.type).toBe(e.sampleType);
  expect(fold.total).toBe(e.total);
  expect(functionsOf(fold)).toEqual(e.functions);
}

describe('JFR fold against grafana/jfr-parser (test/fixtures/jfr)', () => {
  const cases = jfrExpectations(FIXTURES);
  it('has fixtures', () => expect(cases.length).toBeGreaterThan(0));
  it.each(cases.map((e) => [`${e.expectedFile} ${e.sampleType}`, e] as const))('%s', (_, e) =>
    checkOracle(FIXTURES, e),
  );
});

describe.skipIf(!existsSync(SHARED_JFR))('JFR fold against grafana/jfr-parser (../shared corpus)', () => {
  const cases = existsSync(SHARED_JFR) ? jfrExpectations(SHARED_JFR) : [];
  it('covers every recording', () => {
    expect(new Set(cases.map((e) => e.recording)).size).toBeGreaterThanOrEqual(13);
  });
  it.each(cases.map((e) => [`${e.expectedFile} ${e.sampleType}`, e] as const))('%s', (_, e) =>
    checkOracle(SHARED_JFR, e),
  );
});

describe.skipIf(!existsSync(SHARED_PYROSCOPE))("JFR fold against Pyroscope's own conversion", () => {
  it('cortex-dev-01__kafka-0__cpu__0: CPU per function and total equal `go tool pprof` on the pprof Pyroscope stored', () => {
    const fold = foldProfile(readFileSync(join(SHARED_PYROSCOPE, 'cortex-dev-01__kafka-0__cpu__0.jfr.gz')));
    const ref = readRef(
      join(
        SHARED_REFS,
        'cortex-dev-01__kafka-0__cpu__0.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz.cpu.top.json',
      ),
    );
    expect(fold.sampleType).toEqual({ type: 'cpu', unit: 'nanoseconds' });
    expect(fold.total).toBe(ref.total);
    expect(functionsOf(fold)).toEqual(new Map(ref.functions.map((f) => [f.name, { flat: f.flat, cum: f.cum }])));
  });
});
