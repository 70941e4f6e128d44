import { readFileSync } from 'node:fs';
import { buildTree, type StackTree } from '../domain/profile/tree';
import { detectRegressions, type RegressionFinding } from '../domain/regression';
import type { DiffOptions } from './diff.command';

/** Reads both files, detects regressions and renders them (JSON or a table); errors name the file. */
export function runDiff(baseFile: string, currentFile: string, options: DiffOptions): string {
  const base = readTree(baseFile, options.sampleType);
  const current = readTree(currentFile, options.sampleType);
  if (base.sampleType.type !== current.sampleType.type || base.sampleType.unit !== current.sampleType.unit) {
    throw new Error(
      `${currentFile}: sample type ${current.sampleType.type}/${current.sampleType.unit} differs from ${baseFile}'s ${base.sampleType.type}/${base.sampleType.unit}`,
    );
  }
  const report = detectRegressions({ tree: base }, { tree: current });
  return options.json
    ? renderDiffJson(report.findings, current)
    : renderDiffTable(report.findings, current, report.tests);
}

function readTree(file: string, sampleType: string | undefined): StackTree {
  try {
    const tree = buildTree(readFileSync(file), sampleType === undefined ? {} : { choose: () => ({ sampleType }) });
    if (!tree) throw new Error('no tree');
    return tree;
  } catch (err: unknown) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * The JSON contract. `cpuNanosecondsDelta` is the current value minus the base share of the current total (the extra
 * the current profile spent there), exact; it is in the sample type's unit, nanoseconds for CPU profiles.
 */
export function renderDiffJson(findings: readonly RegressionFinding[], _current: StackTree): string {
  const rows = findings.map(
    (f) =>
      `{"function":${JSON.stringify(f.function)},"kind":"${f.kind}","baseShare":${f.baseShare},"currentShare":${f.currentShare},"pValue":${f.pValue},"cpuNanosecondsDelta":${f.valueDelta}}`,
  );
  return `{"regressions":[${rows.join(',')}]}\n`;
}

export function renderDiffTable(findings: readonly RegressionFinding[], current: StackTree, tests: number): string {
  const unit = `${current.sampleType.type}/${current.sampleType.unit}`;
  if (findings.length === 0)
    return `No significant regression (${tests} tests, Holm-adjusted p < 0.01, at least +10% share).\n`;
  const lines = [
    `Type: ${unit}; ${findings.length} regression(s), most ${current.sampleType.unit} first`,
    `${'base%'.padStart(8)} ${'current%'.padStart(9)} ${'delta'.padStart(16)} ${'p'.padStart(9)}  kind  function`,
  ];
  for (const f of findings) {
    lines.push(
      `${pct(f.baseShare).padStart(8)} ${pct(f.currentShare).padStart(9)} ${`+${f.valueDelta}`.padStart(16)} ${f.pValue.toExponential(1).padStart(9)}  ${f.kind.padEnd(4)}  ${f.function}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}
