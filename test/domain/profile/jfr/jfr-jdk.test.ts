import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldProfile } from '../../../../src/domain/profile';

const FIXTURES = resolve(__dirname, '../../../fixtures/jfr');

interface JdkExpected {
  readonly samples: number;
  readonly total: string;
  readonly functions: readonly { name: string; flat: string; cum: string }[];
  readonly eventsWithStack: Readonly<Record<string, number>>;
}

/**
 * `jfr print` writes class names with dots; the recording holds them in internal form (slashes), except the JDK 25
 * hidden classes, whose names it writes with dots. Compared with the class part in one form.
 */
const sameForm = (name: string): string => {
  const dot = name.lastIndexOf('.');
  return `${name.slice(0, dot).replace(/\./g, '/')}${name.slice(dot)}`;
};

describe("JFR fold of JDK recordings against the JDK's own reader (jfr print)", () => {
  for (const recording of ['jdk17-work', 'jdk25-work']) {
    it(`${recording}: execution samples, CPU per function, and the allocation and lock events`, () => {
      const bytes = readFileSync(join(FIXTURES, `${recording}.jfr.gz`));
      const expected = JSON.parse(readFileSync(join(FIXTURES, `${recording}.expected.json`), 'utf8')) as JdkExpected;
      const fold = foldProfile(bytes);
      expect(fold.sampleType).toEqual({ type: 'cpu', unit: 'nanoseconds' });
      expect(fold.sampleCount).toBe(expected.samples);
      expect(fold.total).toBe(BigInt(expected.total));
      const actual = new Map([...fold.functions].map(([name, v]) => [sameForm(name), { flat: v.flat, cum: v.cum }]));
      expect(actual).toEqual(
        new Map(expected.functions.map((f) => [sameForm(f.name), { flat: BigInt(f.flat), cum: BigInt(f.cum) }])),
      );
      for (const [type, count] of Object.entries(expected.eventsWithStack)) {
        const other = foldProfile(bytes, { sampleType: type });
        expect(other.sampleCount, type).toBe(count);
        expect(other.total, type).toBe(BigInt(count));
      }
    });
  }
});
