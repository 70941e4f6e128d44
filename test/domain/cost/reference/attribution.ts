/**
 * The attribution core as it was before the performance work (commit ca8a748), kept verbatim as a test oracle:
 * the optimized `src/domain/cost` must give deep-equal results on every input (attribution.oracle.test.ts).
 */
import { resolveService } from '../../../../src/domain/catalog/service-resolver';
import {
  UNOWNED,
  type AttributionInput,
  type CrossServiceFunctionCost,
  type FunctionCost,
  type IdleCost,
  type LabelCost,
  type ServiceCost,
  type WindowAttribution,
} from '../../../../src/domain/cost/attribution.types';
import { splitByFunction, splitByLabel } from './fold-split';
import { distributeRationals } from './largest-remainder';
import type { CostMode } from '../../../../src/domain/cost/price-settings';
import { roundHalfUp, sum } from '../../../../src/domain/cost/rational';
import { rollUpTeams } from '../../../../src/domain/cost/team-rollup';
import {
  priceAllocatedPool,
  priceMeasuredPart,
  type IdleLine,
  type PricedPart,
  type ResolvedPart,
} from '../../../../src/domain/cost/window-pricing';

const DEFAULT_SOURCE = 'default';

/**
 * Attributes one window's profiles to money: per service, function (self and inclusive), team
 * (own and rolled up the group tree), label value and cross-service function, with `__unowned__`
 * and `__idle__` lines. The window's exact cost is rounded once (half up) to micro-units and then
 * distributed by largest remainder, so every breakdown sums to the total exactly. Pure: the input
 * is not modified; the same input (in any service order) gives the same output.
 */
export function attributeWindow(input: AttributionInput): WindowAttribution {
  if (!(input.window.endMs > input.window.startMs))
    throw new RangeError(`empty window [${input.window.startMs}, ${input.window.endMs})`);
  const parts = resolveParts(input);
  const { priced, idle } = priceParts(parts, input);
  const { partAmounts, idleAmounts, total } = roundWindow(priced, idle);
  const services = serviceCosts(priced, partAmounts);
  const functions = functionCosts(priced, partAmounts);
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
    functions,
    crossServiceFunctions: crossServiceCosts(functions),
    teams: rollUpTeams(input.catalog, teamAmounts(priced, partAmounts), idleMicrodollars),
    labels: labelCosts(priced, partAmounts, input.labelKeys ?? []),
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

/** Step 5: per service and function, summing each part's exact split. */
function functionCosts(priced: readonly PricedPart[], amounts: ReadonlyMap<string, bigint>): FunctionCost[] {
  const acc = new Map<string, { service: string; function: string; self: bigint; cum: bigint }>();
  for (const p of priced) {
    for (const [name, share] of splitByFunction(p.part.input.fold, amounts.get(p.part.key) ?? 0n)) {
      const key = `${p.part.service}\u0000${name}`;
      const line = acc.get(key) ?? { service: p.part.service, function: name, self: 0n, cum: 0n };
      acc.set(key, { ...line, self: line.self + share.self, cum: line.cum + share.cum });
    }
  }
  return [...acc.values()]
    .map((l) => ({ service: l.service, function: l.function, selfMicrodollars: l.self, cumMicrodollars: l.cum }))
    .sort((a, b) =>
      a.selfMicrodollars === b.selfMicrodollars
        ? compareStrings(a.service, b.service) || compareStrings(a.function, b.function)
        : a.selfMicrodollars > b.selfMicrodollars
          ? -1
          : 1,
    );
}

/** Step 6: the same function summed across services. */
function crossServiceCosts(functions: readonly FunctionCost[]): CrossServiceFunctionCost[] {
  const acc = new Map<string, CrossServiceFunctionCost>();
  for (const f of functions) {
    const line = acc.get(f.function) ?? {
      function: f.function,
      selfMicrodollars: 0n,
      cumMicrodollars: 0n,
      services: 0,
    };
    acc.set(f.function, {
      function: f.function,
      selfMicrodollars: line.selfMicrodollars + f.selfMicrodollars,
      cumMicrodollars: line.cumMicrodollars + f.cumMicrodollars,
      services: line.services + 1,
    });
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
