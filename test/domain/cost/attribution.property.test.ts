import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCatalog, type Catalog } from '../../../src/domain/catalog';
import {
  attributeWindow,
  priceSettingsSchema,
  resolvePrice,
  type AttributionInput,
  type PriceSettings,
  type ServiceWindowInput,
} from '../../../src/domain/cost';
import { deepFreeze, expectConserved, realFolds, withSyntheticSlices, type RealFold } from './real-folds';

const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 0, 1);
const TEAMS = ['t0', 't1', 't2', 't3', 't4'];
const SERVICES = ['s0', 's1', 's2', 's3', 's4', 's5', 'unknown-a', 'unknown-b'];

/** A random group tree (each team's parent is an earlier team or none) and random owners for s0..s5. */
const catalogArb = fc.record({
  parents: fc.tuple(...TEAMS.map((_, i) => fc.integer({ min: -1, max: i - 1 }))),
  owners: fc.tuple(...SERVICES.slice(0, 6).map(() => fc.integer({ min: 0, max: TEAMS.length - 1 }))),
});

function buildCatalog(parents: readonly number[], owners: readonly number[]): Catalog {
  const groups = TEAMS.map(
    (t, i) =>
      `kind: Group\nmetadata: { name: ${t} }\nspec: { type: team${(parents[i] ?? -1) >= 0 ? `, parent: ${TEAMS[parents[i] as number]}` : ''} }\n`,
  );
  const components = owners.map((o, i) => `kind: Component\nmetadata: { name: s${i} }\nspec: { owner: ${TEAMS[o]} }\n`);
  const r = parseCatalog([{ path: 'p.yaml', text: [...groups, ...components].join('---\n') }]);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return deepFreeze(r.catalog);
}

const priceArb = fc.record({
  nanos: fc.bigInt({ min: 0n, max: 5_000_000_000n }),
  hoursFromBase: fc.integer({ min: -48, max: 48 }),
  scope: fc.oneof(
    fc.constant(undefined),
    fc.record({ service: fc.constantFrom(...SERVICES) }),
    fc.record({ cluster: fc.constantFrom('c1', 'c2') }),
    fc.record({ region: fc.constantFrom('eu', 'us') }),
  ),
});

type PriceDraft = { nanos: bigint; hoursFromBase: number; scope: Record<string, string> | undefined };

function buildSettings(prices: readonly PriceDraft[], mode: unknown): PriceSettings {
  const seen = new Set<string>();
  const unique = prices.filter((p) => {
    const k = `${JSON.stringify(p.scope ?? {})}@${p.hoursFromBase}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
  return deepFreeze(
    priceSettingsSchema.parse({
      prices: unique.map((p) => ({
        costPerCoreHour: `${p.nanos / 1_000_000_000n}.${(p.nanos % 1_000_000_000n).toString().padStart(9, '0')}`,
        effectiveFrom: new Date(BASE + p.hoursFromBase * HOUR).toISOString(),
        ...(p.scope ? { scope: p.scope } : {}),
      })),
      cost: { default: mode },
    }),
  );
}

const modeArb = fc.oneof(
  fc.record({ mode: fc.constant('measured'), samplingFraction: fc.constantFrom(1, 0.5, 0.3, 0.125) }),
  fc.record({ mode: fc.constant('allocated'), fleetCores: fc.constantFrom(0.01, 1, 64, 2.5) }),
);

const partsArb = fc.array(
  fc.record({
    fold: fc.integer({ min: 0, max: realFolds().length - 1 }),
    service: fc.constantFrom(...SERVICES),
    cluster: fc.constantFrom(undefined, 'c1', 'c2'),
    region: fc.constantFrom(undefined, 'eu', 'us'),
    sliced: fc.boolean(),
  }),
  { minLength: 0, maxLength: 8 },
);

function buildServices(
  parts: readonly {
    fold: number;
    service: string;
    cluster: string | undefined;
    region: string | undefined;
    sliced: boolean;
  }[],
): ServiceWindowInput[] {
  return parts.map((p, i) => {
    const real = realFolds()[p.fold] as RealFold;
    return {
      serviceName: p.service,
      fold: p.sliced ? withSyntheticSlices(real.fold) : real.fold,
      cpuNanoseconds: real.cpuNanoseconds,
      profileDigest: `d${i}`,
      ...(p.cluster ? { cluster: p.cluster } : {}),
      ...(p.region ? { region: p.region } : {}),
    };
  });
}

function input(
  catalog: Catalog,
  settings: PriceSettings,
  services: ServiceWindowInput[],
  startHour: number,
): AttributionInput {
  return deepFreeze({
    window: { startMs: BASE + startHour * HOUR, endMs: BASE + (startHour + 1) * HOUR },
    services,
    catalog,
    catalogRevision: 'r',
    settings,
    labelKeys: ['endpoint'],
  });
}

describe('attribution properties over random catalogs, price schedules and real folds', () => {
  it('conserves money exactly in every window, and the total is the one rounding of the exact sum', () => {
    fc.assert(
      fc.property(
        catalogArb,
        fc.array(priceArb, { maxLength: 6 }),
        modeArb,
        partsArb,
        fc.integer({ min: -72, max: 72 }),
        (cat, prices, mode, parts, hour) => {
          const settings = buildSettings(prices, mode);
          const services = buildServices(parts);
          const a = attributeWindow(input(buildCatalog(cat.parents, cat.owners), settings, services, hour));
          expectConserved(a);
          if (settings.cost.default.mode === 'measured') {
            // independent recomputation: Σ cpu × price × q / (p × 3.6e15), rounded half up once
            let num = 0n;
            const den = 3_600_000_000_000_000n * settings.cost.default.samplingFraction.num;
            for (const s of services) {
              const price = resolvePrice(
                settings.prices,
                {
                  services: [s.serviceName],
                  ...(s.cluster ? { cluster: s.cluster } : {}),
                  ...(s.region ? { region: s.region } : {}),
                },
                BASE + hour * HOUR,
              );
              num += s.cpuNanoseconds * price.nanosPerCoreHour * settings.cost.default.samplingFraction.den;
            }
            expect(a.totalMicrodollars).toBe((2n * num + den) / (2n * den));
            expect(a.idleMicrodollars).toBe(0n);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('moving a service to another team moves exactly its dollars and nothing else', () => {
    fc.assert(
      fc.property(
        catalogArb,
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: TEAMS.length - 1 }),
        fc.array(priceArb, { maxLength: 4 }),
        modeArb,
        partsArb,
        (cat, moved, to, prices, mode, parts) => {
          const settings = buildSettings(prices, mode);
          const services = buildServices(parts);
          const owners = [...cat.owners];
          const from = owners[moved] as number;
          owners[moved] = to;
          const before = attributeWindow(input(buildCatalog(cat.parents, cat.owners), settings, services, 0));
          const after = attributeWindow(input(buildCatalog(cat.parents, owners), settings, services, 0));
          const dollars = before.services.find((s) => s.service === `s${moved}`)?.microdollars ?? 0n;
          expect(after.services.map((s) => [s.service, s.microdollars])).toEqual(
            before.services.map((s) => [s.service, s.microdollars]),
          );
          expect(after.functions).toEqual(before.functions);
          const own = (a: typeof before, team: string) => a.teams.find((t) => t.team === team)?.ownMicrodollars ?? 0n;
          for (const team of TEAMS) {
            const delta = own(after, team) - own(before, team);
            const expected = from === to ? 0n : team === TEAMS[from] ? -dollars : team === TEAMS[to] ? dollars : 0n;
            expect(delta).toBe(expected);
          }
          expect(after.totalMicrodollars).toBe(before.totalMicrodollars);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('a price added at time T changes only windows starting at or after T', () => {
    fc.assert(
      fc.property(
        catalogArb,
        fc.array(priceArb, { maxLength: 4 }),
        priceArb,
        partsArb,
        fc.integer({ min: -24, max: 24 }),
        (cat, prices, added, parts, hour) => {
          const mode = { mode: 'measured', samplingFraction: 1 };
          const catalog = buildCatalog(cat.parents, cat.owners);
          const services = buildServices(parts);
          const withoutNew = buildSettings(prices, mode);
          const withNew = buildSettings([{ ...added, nanos: added.nanos + 1n }, ...prices], mode); // first wins on a clash: always added
          const a = attributeWindow(input(catalog, withoutNew, services, hour));
          const b = attributeWindow(input(catalog, withNew, services, hour));
          if (hour < added.hoursFromBase) expect(b).toEqual(a);
          else if (
            services.length > 0 &&
            !added.scope &&
            !prices.some((p) => !p.scope && p.hoursFromBase > added.hoursFromBase && p.hoursFromBase <= hour)
          ) {
            // the new default price is in force for any part without a more specific one
            const usesNew = b.services.some((s) =>
              s.priceIds.some((id) =>
                id.startsWith(`default@${new Date(BASE + added.hoursFromBase * HOUR).toISOString()}`),
              ),
            );
            const allScoped = b.services.every((s) =>
              s.priceIds.every((id) => !id.startsWith('default@') && id !== 'opencost-default'),
            );
            expect(usesNew || allScoped).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
