import { resolveService } from '../catalog/service-resolver';
import {
  NO_LABEL,
  OTHER_LABEL,
  UNOWNED,
  type AttributionInput,
  type CrossServiceFunctionCost,
  type FunctionCost,
  type IdleCost,
  type LabelCost,
  type ServiceCost,
  type ServiceFunctionSplit,
  type WindowAttribution,
  type WindowAttributionSplits,
} from './attribution.types';
import { splitByLabel, splitFoldByFunction } from './fold-split';
import { distributeRationals } from './largest-remainder';
import type { CostMode } from './price-settings';
import { roundHalfUp, sum } from './rational';
import { rollUpTeams } from './team-rollup';
import {
  priceAllocatedPool,
  priceMeasuredPart,
  type IdleLine,
  type PricedPart,
  type ResolvedPart,
} from './window-pricing';

const DEFAULT_SOURCE = 'default';

/**
 * Attributes one window's profiles to money: per service, function (self and inclusive), team
 * (own and rolled up the group tree), label value and cross-service function, with `__unowned__`
 * and `__idle__` lines. The window's exact cost is rounded once (half up) to micro-units and then
 * distributed by largest remainder, so every breakdown sums to the total exactly. Pure: the input
 * is not modified; the same input (in any service order) gives the same output.
 */
export function attributeWindow(input: AttributionInput): WindowAttribution {
  const a = attributeWindowSplits(input);
  return {
    window: a.window,
    currency: a.currency,
    catalogRevision: a.catalogRevision,
    totalMicrodollars: a.totalMicrodollars,
    idleMicrodollars: a.idleMicrodollars,
    defaultPriced: a.defaultPriced,
    services: a.services,
    functions: functionCosts(a.functionSplits),
    crossServiceFunctions: crossServiceCosts(a.functionSplits),
    teams: a.teams,
    labels: a.labels,
    idle: a.idle,
    unownedServices: a.unownedServices,
  };
}

/**
 * `attributeWindow` without the two window-wide function lists: the function money stays per service, as
 * parallel arrays (`functionSplits`, one per service line, by service name). Same amounts; for callers that
 * store or aggregate per service, since sorting millions of function lines and summing them across services is
 * most of `attributeWindow`'s time at scale.
 */
export function attributeWindowSplits(input: AttributionInput): WindowAttributionSplits {
  if (!(input.window.endMs > input.window.startMs))
    throw new RangeError(`empty window [${input.window.startMs}, ${input.window.endMs})`);
  const parts = resolveParts(input);
  const { priced, idle } = priceParts(parts, input);
  const { partAmounts, idleAmounts, total } = roundWindow(priced, idle);
  const services = serviceCosts(priced, partAmounts);
  const idleLines = idle.map((l): IdleCost => ({
    source: l.source,
    microdollars: idleAmounts.get(l.key) ?? 0n,
    overcommitted: l.overcommitted,
  }));
  const idleMicrodollars = idleLines.reduce((s, l) => s + l.microdollars, 0n);
  return {
    window: { ...input.window },
    currency: input.settings.currency,
    catalogRevision: input.catalogRevision,
    totalMicrodollars: total,
    idleMicrodollars,
    defaultPriced: priced.some((p) => p.defaultPriced),
    services,
    functionSplits: functionSplits(priced, partAmounts),
    teams: rollUpTeams(input.catalog, teamAmounts(priced, partAmounts), idleMicrodollars),
    labels: capLabelValues(labelCosts(priced, partAmounts, input.labelKeys ?? []), input.maxLabelValues),
    idle: idleLines,
    unownedServices: [...new Set(parts.filter((p) => p.teamKey === null).map((p) => p.service))].sort(),
  };
}

/** Step 1: who owns each input and how it is costed. Parts are sorted so order of input never matters. */
export function resolveParts(input: AttributionInput): ResolvedPart[] {
  const sorted = [...input.services].sort(
    (a, b) => compareStrings(a.serviceName, b.serviceName) || compareStrings(a.profileDigest, b.profileDigest),
  );
  return sorted.map((service, index) => {
    const source = service.source ?? DEFAULT_SOURCE;
    const mode: CostMode = input.settings.cost.sources[source] ?? input.settings.cost.default;
    const resolved = input.catalog ? resolveService(input.catalog, service.serviceName) : null;
    const owned = resolved?.owned ? resolved : null;
    return {
      key: `${service.serviceName}\u0000${service.profileDigest}\u0000${String(index).padStart(8, '0')}`,
      input: service,
      service: owned ? owned.service.name : service.serviceName,
      teamKey: owned ? owned.team.key : null,
      team: owned ? owned.team.team : UNOWNED,
      system: owned?.service.system ? (input.catalog?.systems.get(owned.service.system)?.name ?? null) : null,
      source,
      mode,
    };
  });
}

/** Step 2: exact cost of every part, measured directly or shared out of its source's allocated pool. */
export function priceParts(
  parts: readonly ResolvedPart[],
  input: AttributionInput,
): { priced: PricedPart[]; idle: IdleLine[] } {
  const priced: PricedPart[] = [];
  const idle: IdleLine[] = [];
  for (const part of parts)
    if (part.mode.mode === 'measured') priced.push(priceMeasuredPart(part, input.settings.prices, input.window));
  for (const [source, mode] of allocatedSources(parts, input)) {
    const pool = priceAllocatedPool(
      source,
      mode,
      parts.filter((p) => p.source === source),
      input.settings.prices,
      input.window,
    );
    priced.push(...pool.parts);
    idle.push(pool.idle);
  }
  return { priced, idle };
}

/**
 * Allocated sources to pool: every source with a part, plus configured allocated sources with no
 * part at all — their whole fleet is idle that window, and must still show.
 */
function allocatedSources(
  parts: readonly ResolvedPart[],
  input: AttributionInput,
): [string, Extract<CostMode, { mode: 'allocated' }>][] {
  const out = new Map<string, Extract<CostMode, { mode: 'allocated' }>>();
  for (const p of parts) if (p.mode.mode === 'allocated') out.set(p.source, p.mode);
  for (const [source, mode] of Object.entries(input.settings.cost.sources))
    if (mode.mode === 'allocated') out.set(source, mode);
  if (input.settings.cost.default.mode === 'allocated' && parts.length === 0)
    out.set(DEFAULT_SOURCE, input.settings.cost.default);
  return [...out].sort(([a], [b]) => compareStrings(a, b));
}

/** Step 3: the one rounding. The exact window sum is rounded half up, then split by largest remainder. */
export function roundWindow(
  priced: readonly PricedPart[],
  idle: readonly IdleLine[],
): { partAmounts: Map<string, bigint>; idleAmounts: Map<string, bigint>; total: bigint } {
  const lines = [
    ...priced.map((p) => ({ key: p.part.key, value: p.exact })),
    ...idle.map((l) => ({ key: l.key, value: l.exact })),
  ];
  const total = roundHalfUp(sum(lines.map((l) => l.value)));
  const amounts = distributeRationals(total, lines);
  const idleKeys = new Set(idle.map((l) => l.key));
  const pick = (keep: boolean) => new Map([...amounts].filter(([k]) => idleKeys.has(k) === keep));
  return { partAmounts: pick(false), idleAmounts: pick(true), total };
}

/** Step 4: service lines, summing parts that resolved to the same service. */
function serviceCosts(priced: readonly PricedPart[], amounts: ReadonlyMap<string, bigint>): ServiceCost[] {
  const groups = groupBy(priced, (p) => p.part.service);
  const out = [...groups].map(([service, ps]): ServiceCost => {
    const first = (ps[0] as PricedPart).part;
    return {
      service,
      team: first.team,
      system: first.system,
      profileServiceNames: uniqueSorted(ps.map((p) => p.part.input.serviceName)),
      cpuNanoseconds: ps.reduce((s, p) => s + p.part.input.cpuNanoseconds, 0n),
      microdollars: ps.reduce((s, p) => s + (amounts.get(p.part.key) ?? 0n), 0n),
      mode: first.mode.mode,
      priceIds: uniqueSorted(ps.map((p) => p.priceId)),
      defaultPriced: ps.some((p) => p.defaultPriced),
      profileDigests: uniqueSorted(ps.map((p) => p.part.input.profileDigest)),
    };
  });
  return out.sort((a, b) =>
    a.microdollars === b.microdollars ? compareStrings(a.service, b.service) : a.microdollars > b.microdollars ? -1 : 1,
  );
}

/**
 * Step 5: per service, each part's integer cost split over its functions (parts of one service summed line by
 * line). One entry per service line, by service name; lines in first-seen order.
 */
function functionSplits(priced: readonly PricedPart[], amounts: ReadonlyMap<string, bigint>): ServiceFunctionSplit[] {
  const out: ServiceFunctionSplit[] = [];
  for (const [service, ps] of groupBy(priced, (p) => p.part.service)) {
    const splits = ps.map((p) => splitFoldByFunction(p.part.input.fold, amounts.get(p.part.key) ?? 0n));
    out.push({ service, ...(splits.length === 1 ? (splits[0] as ServiceFunctionSplit) : mergeLines(splits)) });
  }
  return out.sort((a, b) => compareStrings(a.service, b.service));
}

/** Several parts' lines of one service, summed per function name. */
function mergeLines(splits: readonly Omit<ServiceFunctionSplit, 'service'>[]): Omit<ServiceFunctionSplit, 'service'> {
  const index = new Map<string, number>();
  const names: string[] = [];
  const self: bigint[] = [];
  const cum: bigint[] = [];
  for (const split of splits) {
    for (let i = 0; i < split.names.length; i++) {
      const name = split.names[i] as string;
      const at = index.get(name);
      if (at === undefined) {
        index.set(name, names.length);
        names.push(name);
        self.push(split.self[i] as bigint);
        cum.push(split.cum[i] as bigint);
      } else {
        self[at] = (self[at] as bigint) + (split.self[i] as bigint);
        cum[at] = (cum[at] as bigint) + (split.cum[i] as bigint);
      }
    }
  }
  return { names, self, cum };
}

/** The window's function lines, by self cost descending, then service and function name. */
function functionCosts(splits: readonly ServiceFunctionSplit[]): FunctionCost[] {
  const out: FunctionCost[] = [];
  for (const split of splits) {
    for (let i = 0; i < split.names.length; i++) {
      out.push({
        service: split.service,
        function: split.names[i] as string,
        selfMicrodollars: split.self[i] as bigint,
        cumMicrodollars: split.cum[i] as bigint,
      });
    }
  }
  return out.sort((a, b) =>
    a.selfMicrodollars === b.selfMicrodollars
      ? a.service === b.service
        ? compareStrings(a.function, b.function)
        : compareStrings(a.service, b.service)
      : a.selfMicrodollars > b.selfMicrodollars
        ? -1
        : 1,
  );
}

/** Step 6: the same function summed across services. */
function crossServiceCosts(splits: readonly ServiceFunctionSplit[]): CrossServiceFunctionCost[] {
  const acc = new Map<
    string,
    { function: string; selfMicrodollars: bigint; cumMicrodollars: bigint; services: number }
  >();
  for (const split of splits) {
    for (let i = 0; i < split.names.length; i++) {
      const name = split.names[i] as string;
      const line = acc.get(name);
      if (line) {
        line.selfMicrodollars += split.self[i] as bigint;
        line.cumMicrodollars += split.cum[i] as bigint;
        line.services++;
      } else
        acc.set(name, {
          function: name,
          selfMicrodollars: split.self[i] as bigint,
          cumMicrodollars: split.cum[i] as bigint,
          services: 1,
        });
    }
  }
  return [...acc.values()].sort((a, b) =>
    a.selfMicrodollars === b.selfMicrodollars
      ? compareStrings(a.function, b.function)
      : a.selfMicrodollars > b.selfMicrodollars
        ? -1
        : 1,
  );
}

/** Step 7: per service, label key and value. */
function labelCosts(
  priced: readonly PricedPart[],
  amounts: ReadonlyMap<string, bigint>,
  keys: readonly string[],
): LabelCost[] {
  const acc = new Map<string, LabelCost>();
  for (const p of priced) {
    for (const key of keys) {
      for (const [value, amount] of splitByLabel(p.part.input.fold, key, amounts.get(p.part.key) ?? 0n)) {
        const id = `${p.part.service}\u0000${key}\u0000${value}`;
        const prev = acc.get(id)?.microdollars ?? 0n;
        acc.set(id, { service: p.part.service, key, value, microdollars: prev + amount });
      }
    }
  }
  return [...acc.values()].sort(
    (a, b) => compareStrings(a.service, b.service) || compareStrings(a.key, b.key) || compareStrings(a.value, b.value),
  );
}

/**
 * Step 8: at most `max` values per (service, key) besides `__none__` and `__other__`: the costliest stay (ties: value
 * ascending) and the rest are added to `__other__`. Sums are unchanged, so the books still balance.
 */
function capLabelValues(costs: LabelCost[], max: number | undefined): LabelCost[] {
  if (max === undefined) return costs;
  const groups = groupBy(costs, (c) => `${c.service}\u0000${c.key}`);
  const out: LabelCost[] = [];
  for (const group of groups.values()) {
    const named = group.filter((c) => c.value !== NO_LABEL && c.value !== OTHER_LABEL);
    if (named.length <= max) {
      out.push(...group);
      continue;
    }
    const ranked = [...named].sort((a, b) =>
      a.microdollars === b.microdollars ? compareStrings(a.value, b.value) : a.microdollars > b.microdollars ? -1 : 1,
    );
    const folded = ranked.slice(max).reduce((sum, c) => sum + c.microdollars, 0n);
    const other = group.find((c) => c.value === OTHER_LABEL)?.microdollars ?? 0n;
    const { service, key } = group[0]!;
    out.push(...group.filter((c) => c.value === NO_LABEL), ...ranked.slice(0, max), {
      service,
      key,
      value: OTHER_LABEL,
      microdollars: other + folded,
    });
  }
  return out.sort(
    (a, b) => compareStrings(a.service, b.service) || compareStrings(a.key, b.key) || compareStrings(a.value, b.value),
  );
}

function teamAmounts(priced: readonly PricedPart[], amounts: ReadonlyMap<string, bigint>) {
  return priced.map((p) => ({ teamKey: p.part.teamKey, microdollars: amounts.get(p.part.key) ?? 0n }));
}

function groupBy<T>(items: readonly T[], keyOf: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = out.get(key);
    if (list) list.push(item);
    else out.set(key, [item]);
  }
  return out;
}

function uniqueSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareStrings);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
