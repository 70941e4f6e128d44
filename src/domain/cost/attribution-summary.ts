import type { TeamCost, WindowAttribution } from './attribution.types';

/** Several windows added up (e.g. every profile of an offline run). */
export interface AttributionSummary {
  readonly currency: string;
  readonly windows: number;
  readonly totalMicrodollars: bigint;
  readonly idleMicrodollars: bigint;
  readonly defaultPriced: boolean;
  readonly teams: readonly TeamCost[];
  readonly services: readonly {
    service: string;
    team: string;
    cpuNanoseconds: bigint;
    microdollars: bigint;
    defaultPriced: boolean;
    priceIds: readonly string[];
  }[];
  readonly functions: readonly {
    service: string;
    function: string;
    selfMicrodollars: bigint;
    cumMicrodollars: bigint;
  }[];
  readonly unownedServices: readonly string[];
}

/**
 * Adds window attributions line by line. Sums of exact integers, so every conservation property
 * of the windows holds for the sum. All windows must share one currency.
 */
export function sumAttributions(windows: readonly WindowAttribution[]): AttributionSummary {
  const currencies = new Set(windows.map((w) => w.currency));
  if (currencies.size > 1)
    throw new RangeError(`cannot add windows in different currencies: ${[...currencies].join(', ')}`);
  const teams = new Map<string, TeamCost>();
  const services = new Map<string, AttributionSummary['services'][number]>();
  const functions = new Map<string, AttributionSummary['functions'][number]>();
  for (const w of windows) {
    for (const t of w.teams) {
      const prev = teams.get(t.team);
      teams.set(
        t.team,
        prev
          ? {
              ...t,
              ownMicrodollars: prev.ownMicrodollars + t.ownMicrodollars,
              rolledUpMicrodollars: prev.rolledUpMicrodollars + t.rolledUpMicrodollars,
            }
          : t,
      );
    }
    for (const s of w.services) {
      const prev = services.get(s.service);
      services.set(s.service, {
        service: s.service,
        team: s.team,
        cpuNanoseconds: (prev?.cpuNanoseconds ?? 0n) + s.cpuNanoseconds,
        microdollars: (prev?.microdollars ?? 0n) + s.microdollars,
        defaultPriced: (prev?.defaultPriced ?? false) || s.defaultPriced,
        priceIds: [...new Set([...(prev?.priceIds ?? []), ...s.priceIds])].sort(),
      });
    }
    for (const f of w.functions) {
      const key = `${f.service}\u0000${f.function}`;
      const prev = functions.get(key);
      functions.set(key, {
        ...f,
        selfMicrodollars: (prev?.selfMicrodollars ?? 0n) + f.selfMicrodollars,
        cumMicrodollars: (prev?.cumMicrodollars ?? 0n) + f.cumMicrodollars,
      });
    }
  }
  const desc =
    <T>(by: (t: T) => bigint, tie: (t: T) => string) =>
    (a: T, b: T) =>
      by(a) === by(b) ? (tie(a) < tie(b) ? -1 : tie(a) > tie(b) ? 1 : 0) : by(a) > by(b) ? -1 : 1;
  return {
    currency: windows[0]?.currency ?? 'USD',
    windows: windows.length,
    totalMicrodollars: windows.reduce((s, w) => s + w.totalMicrodollars, 0n),
    idleMicrodollars: windows.reduce((s, w) => s + w.idleMicrodollars, 0n),
    defaultPriced: windows.some((w) => w.defaultPriced),
    teams: [...teams.values()]
      .filter((t) => t.kind === 'group')
      .sort(
        desc(
          (t) => t.rolledUpMicrodollars,
          (t) => t.team,
        ),
      )
      .concat([...teams.values()].filter((t) => t.kind !== 'group')),
    services: [...services.values()].sort(
      desc(
        (s) => s.microdollars,
        (s) => s.service,
      ),
    ),
    functions: [...functions.values()].sort(
      desc(
        (f) => f.selfMicrodollars,
        (f) => `${f.service}\u0000${f.function}`,
      ),
    ),
    unownedServices: [...new Set(windows.flatMap((w) => w.unownedServices))].sort(),
  };
}
