import type { CsvValue } from '../domain/export/csv';

/**
 * Rows of nested JSON as CSV columns: `cost: {microdollars, dollars}` becomes `cost_microdollars`, `cost_dollars`.
 * Columns are the union over the rows, in order of first appearance.
 */
export function flattenRows(rows: readonly object[]): { columns: string[]; rows: CsvValue[][] } {
  const flat = rows.map((r) => flatten(r, ''));
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of flat) {
    for (const k of r.keys()) {
      if (seen.has(k)) continue;
      seen.add(k);
      columns.push(k);
    }
  }
  return { columns, rows: flat.map((r) => columns.map((c) => r.get(c))) };
}

function flatten(value: object, prefix: string, out = new Map<string, CsvValue>()): Map<string, CsvValue> {
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}_${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as object, key, out);
    else out.set(key, Array.isArray(v) ? v.join(' ') : (v as CsvValue));
  }
  return out;
}
