import { canonicalLabelKey, compareLabels } from '../profile/fold-accumulator';
import type { Fold, FunctionValue, LabelSlice } from '../profile/profile.types';

/**
 * Applies a push's series labels (the agent's tags: `app.cpu{env=prod,version=abc123}`, or a Connect series'
 * labels) to every sample of its fold, merged with the samples' own labels, sample labels winning (issue 15: a
 * request-scoped `endpoint` or `version` set in code is more specific than the process-wide tag). Pyroscope merges the
 * same two sets when it splits a profile into series (pkg/model/pprofsplit/pprof_split.go
 * `addSampleLabelsToLabelsBuilder`) but lets the series label win; the difference only shows when an agent sets one
 * key both ways. Only the configured label keys matter: the fold's slices are already cut by the samples' values of
 * those keys; a slice lacking a key takes the series' value.
 *
 * Slices that become equal (a sample labelled `version=abc` and an unlabelled one under a series tag `version=abc`)
 * are merged by adding their values: their samples are disjoint, so flat and cum add exactly.
 */
export function applySeriesLabels(
  fold: Fold,
  seriesLabels: Readonly<Record<string, string>>,
  labelKeys: readonly string[],
): Fold {
  if (fold.slices === undefined) return fold;
  const tags: Record<string, string> = {};
  for (const key of labelKeys) if (Object.hasOwn(seriesLabels, key)) tags[key] = seriesLabels[key]!;
  if (Object.keys(tags).length === 0) return fold;
  const merged = new Map<
    string,
    { labels: Record<string, string>; total: bigint; functions: Map<string, FunctionValue> }
  >();
  for (const slice of fold.slices) {
    const labels = { ...tags, ...slice.labels };
    const key = canonicalLabelKey(labels);
    const into = merged.get(key);
    if (!into) {
      merged.set(key, { labels, total: slice.total, functions: new Map(slice.functions) });
      continue;
    }
    into.total += slice.total;
    for (const [name, v] of slice.functions) {
      const had = into.functions.get(name);
      into.functions.set(name, had ? { flat: had.flat + v.flat, cum: had.cum + v.cum } : v);
    }
  }
  const slices: LabelSlice[] = [...merged.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  return { ...fold, slices };
}
