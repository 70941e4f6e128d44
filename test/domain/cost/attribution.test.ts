import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCatalog, type Catalog } from '../../../src/domain/catalog';
import {
  attributeWindow,
  IDLE,
  NO_LABEL,
  priceSettingsSchema,
  UNOWNED,
  type AttributionInput,
  type PriceSettings,
  type ServiceWindowInput,
  type WindowAttribution,
} from '../../../src/domain/cost';
import { foldProfile, type Fold } from '../../../src/domain/profile';
import { deepFreeze, expectConserved, realFolds, withSyntheticSlices } from './real-folds';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 1); // a window start: 2026-03-01T00:00Z

function catalogOf(yaml: string): Catalog {
  const r = parseCatalog([{ path: 'test.yaml', text: yaml }]);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return deepFreeze(r.catalog);
}

const CATALOG = catalogOf(`
kind: Group
metadata: { name: org }
spec: { type: organization, profile: { email: org@x.example } }
---
kind: Group
metadata: { name: payments }
spec: { type: team, parent: org }
---
kind: Group
metadata: { name: search }
spec: { type: team, parent: org }
---
kind: Component
metadata: { name: checkout, annotations: { flamebill.io/service-names: "checkout-*" } }
spec: { owner: payments }
---
kind: Component
metadata: { name: indexer }
spec: { owner: group:default/search }
`);

function settings(raw: unknown): PriceSettings {
  return deepFreeze(priceSettingsSchema.parse(raw));
}

function svc(serviceName: string, fileIndex: number, extra: Partial<ServiceWindowInput> = {}): ServiceWindowInput {
  const real = realFolds()[fileIndex];
  if (!real) throw new Error(`no fixture ${fileIndex}`);
  return {
    serviceName,
    fold: real.fold,
    cpuNanoseconds: real.cpuNanoseconds,
    profileDigest: `sha256:${real.file}`,
    ...extra,
  };
}

function attribute(
  partial: Partial<AttributionInput> & Pick<AttributionInput, 'services' | 'settings'>,
): WindowAttribution {
  const input: AttributionInput = deepFreeze({
    window: { startMs: T0, endMs: T0 + HOUR },
    catalog: CATALOG,
    catalogRevision: 'rev-1',
    ...partial,
  });
  return attributeWindow(input);
}

describe('attributeWindow, measured mode', () => {
  it('prices CPU time exactly: ns ÷ 3.6e12 × $/core-hour, rounded once to micro-dollars', () => {
    // devirt.pprof: go tool pprof total 7.39 s of CPU. 7.39 s / 3600 × $0.0316 = $0.0000648677… → 65 µ$.
    const devirt = realFolds().findIndex((f) => f.file === 'devirt.pprof');
    const a = attribute({
      services: [svc('checkout', devirt)],
      settings: settings({ prices: [{ costPerCoreHour: 0.0316, effectiveFrom: '2026-01-01' }] }),
    });
    expect(realFolds()[devirt]?.cpuNanoseconds).toBe(7_390_000_000n);
    expect(a.totalMicrodollars).toBe(65n);
    expect(a.services).toEqual([
      expect.objectContaining({
        service: 'checkout',
        team: 'payments',
        microdollars: 65n,
        cpuNanoseconds: 7_390_000_000n,
        priceIds: ['default@2026-01-01T00:00:00.000Z'],
        defaultPriced: false,
        profileDigests: ['sha256:devirt.pprof'],
      }),
    ]);
    expect(a.teams.map((t) => [t.team, t.ownMicrodollars, t.rolledUpMicrodollars])).toEqual([
      ['org', 0n, 65n],
      ['payments', 65n, 65n],
      [UNOWNED, 0n, 0n],
      [IDLE, 0n, 0n],
    ]);
    expect(a.catalogRevision).toBe('rev-1');
    expectConserved(a);
  });

  it('divides by the sampling fraction', () => {
    const base = settings({ prices: [{ costPerCoreHour: 1, effectiveFrom: '2026-01-01' }] });
    const quarter = settings({
      prices: [{ costPerCoreHour: 1, effectiveFrom: '2026-01-01' }],
      cost: { default: { mode: 'measured', samplingFraction: 0.25 } },
    });
    const one = attribute({ services: [svc('checkout', 0)], settings: base });
    const scaled = attribute({ services: [svc('checkout', 0)], settings: quarter });
    // exact: cpu/3.6e12 × 1e6 µ$; ×4 for a quarter of the fleet profiled (each rounded once)
    const cpu = realFolds()[0]?.cpuNanoseconds ?? 0n;
    expect(one.totalMicrodollars).toBe((cpu * 1_000_000n * 2n + 3_600_000_000_000n) / (2n * 3_600_000_000_000n));
    expect(scaled.totalMicrodollars).toBe((cpu * 4_000_000n * 2n + 3_600_000_000_000n) / (2n * 3_600_000_000_000n));
  });

  it('uses the most specific price in effect at the window start, else OpenCost default and says so', () => {
    const s = settings({
      prices: [
        { costPerCoreHour: 1, effectiveFrom: '2026-01-01' },
        { costPerCoreHour: 2, effectiveFrom: '2025-01-01', scope: { region: 'eu' } },
        { costPerCoreHour: 3, effectiveFrom: '2025-01-01', scope: { cluster: 'c1' } },
        { costPerCoreHour: 4, effectiveFrom: '2025-01-01', scope: { service: 'checkout' } },
        { costPerCoreHour: 5, effectiveFrom: '2026-03-01T00:00:01Z', scope: { service: 'checkout' } }, // one second too late
      ],
    });
    const a = attribute({
      services: [
        svc('checkout-canary', 1, { region: 'eu', cluster: 'c1' }), // service scope via its catalog name
        svc('indexer', 2, { region: 'EU', cluster: 'c1' }), // cluster beats region, case-insensitively
        svc('indexer', 3, { region: 'eu' }),
        svc('stray', 4),
      ],
      settings: s,
    });
    const ids = Object.fromEntries(a.services.map((x) => [x.service, x.priceIds]));
    expect(ids).toEqual({
      checkout: ['service=checkout@2025-01-01T00:00:00.000Z'],
      indexer: ['cluster=c1@2025-01-01T00:00:00.000Z', 'region=eu@2025-01-01T00:00:00.000Z'],
      stray: ['default@2026-01-01T00:00:00.000Z'],
    });
    expect(a.defaultPriced).toBe(false);
    const early = attribute({
      window: { startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2024, 0, 1) + HOUR },
      services: [svc('stray', 4)],
      settings: s,
    });
    expect(early.services[0]).toMatchObject({ priceIds: ['opencost-default'], defaultPriced: true });
    expect(early.defaultPriced).toBe(true);
    expect(early.unownedServices).toEqual(['stray']);
  });

  it('keeps at most maxLabelValues values per service and key across the profiles of a window, the rest under __other__', () => {
    // The real Go workload profile (a request_id per request), folded twice as two pushes of one window would be.
    const bytes = readFileSync(join(__dirname, '../../fixtures/go-workload/labels-2s.pb.gz'));
    const fold = foldProfile(bytes, { labelKeys: ['request_id'], maxLabelValues: 10_000 });
    const ids = new Set(fold.slices!.map((sl) => sl.labels.request_id).filter((v) => v !== undefined));
    expect(ids.size).toBeGreaterThan(100);
    const push = (digest: string): ServiceWindowInput => ({
      serviceName: 'checkout',
      fold,
      cpuNanoseconds: fold.total,
      profileDigest: digest,
    });
    const a = attribute({
      services: [push('d1'), push('d2')],
      settings: settings({ prices: [{ costPerCoreHour: 40, effectiveFrom: '2026-01-01' }] }),
      labelKeys: ['request_id'],
      maxLabelValues: 50,
    });
    expectConserved(a);
    const rows = a.labels.filter((l) => l.service === 'checkout' && l.key === 'request_id');
    expect(rows.filter((l) => l.value !== NO_LABEL && l.value !== '__other__')).toHaveLength(50);
    const other = rows.find((l) => l.value === '__other__')!.microdollars;
    const kept = rows.filter((l) => l.value !== NO_LABEL && l.value !== '__other__');
    expect(rows.reduce((sum, l) => sum + l.microdollars, 0n)).toBe(
      a.services.find((sv) => sv.service === 'checkout')!.microdollars,
    );
    expect(other).toBeGreaterThan(0n);
    // Without the cap every value has its own row.
    const uncapped = attribute({
      services: [push('d1'), push('d2')],
      settings: settings({ prices: [{ costPerCoreHour: 40, effectiveFrom: '2026-01-01' }] }),
      labelKeys: ['request_id'],
    });
    expect(uncapped.labels.filter((l) => l.key === 'request_id' && l.value !== NO_LABEL)).toHaveLength(ids.size);
    const minKept = kept.reduce((m, l) => (l.microdollars < m ? l.microdollars : m), kept[0]!.microdollars);
    const dropped = uncapped.labels.filter(
      (l) => l.key === 'request_id' && l.value !== NO_LABEL && !kept.some((k) => k.value === l.value),
    );
    expect(dropped.every((l) => l.microdollars <= minKept)).toBe(true);
  });

  it('splits each service over functions by flat, inclusive by cum, and over label values by slices', () => {
    const real = realFolds()[0] as { fold: Fold; cpuNanoseconds: bigint };
    const fold = withSyntheticSlices(real.fold);
    const a = attribute({
      services: [{ serviceName: 'checkout', fold, cpuNanoseconds: real.cpuNanoseconds, profileDigest: 'd1' }],
      settings: settings({ prices: [{ costPerCoreHour: 40, effectiveFrom: '2026-01-01' }] }),
      labelKeys: ['endpoint', 'tenant'],
    });
    expectConserved(a);
    const endpoints = a.labels.filter((l) => l.key === 'endpoint').map((l) => l.value);
    expect(endpoints).toEqual(['/a', '/b', NO_LABEL]);
    expect(a.labels.filter((l) => l.key === 'tenant').map((l) => [l.value, l.microdollars])).toEqual([
      [NO_LABEL, a.totalMicrodollars],
    ]);
    // every function's self cost is its exact flat share rounded down or up
    const svcCost = a.totalMicrodollars;
    for (const f of a.functions) {
      const v = fold.functions.get(f.function);
      if (!v) continue;
      const exact = Number(svcCost * v.flat) / Number(fold.total);
      expect(Math.abs(Number(f.selfMicrodollars) - exact)).toBeLessThan(1);
    }
  });

  it('lists unowned services by their profiler name, and merges aliases into one service', () => {
    const a = attribute({
      services: [svc('checkout-eu', 1), svc('checkout', 2), svc('mystery', 3)],
      settings: settings({}),
    });
    expect(a.unownedServices).toEqual(['mystery']);
    const checkout = a.services.find((s) => s.service === 'checkout');
    expect(checkout?.profileServiceNames).toEqual(['checkout', 'checkout-eu']);
    expect(a.services.find((s) => s.service === 'mystery')?.team).toBe(UNOWNED);
    expect(a.teams.find((t) => t.team === UNOWNED)?.ownMicrodollars).toBe(
      a.services.find((s) => s.service === 'mystery')?.microdollars,
    );
    expectConserved(a);
  });

  it('gives the same result whatever the order of its inputs', () => {
    const services = [svc('checkout', 0), svc('indexer', 5), svc('other', 7), svc('checkout-x', 9)];
    const s = settings({ prices: [{ costPerCoreHour: 0.123457, effectiveFrom: '2026-01-01' }] });
    expect(attribute({ services: [...services].reverse(), settings: s })).toEqual(attribute({ services, settings: s }));
  });

  it('rejects an empty window and folds with negative values', () => {
    expect(() => attribute({ window: { startMs: T0, endMs: T0 }, services: [], settings: settings({}) })).toThrow(
      /empty window/,
    );
    const neg: Fold = { ...(realFolds()[0]?.fold as Fold), functions: new Map([['f', { flat: -1n, cum: 1n }]]) };
    expect(() =>
      attribute({
        services: [{ serviceName: 'x', fold: neg, cpuNanoseconds: 10n, profileDigest: 'd' }],
        settings: settings({}),
      }),
    ).toThrow(/negative/);
  });
});

describe('attributeWindow, allocated mode', () => {
  const fleet = (cores: number) =>
    settings({
      prices: [{ costPerCoreHour: 0.04, effectiveFrom: '2026-01-01' }],
      cost: { default: { mode: 'allocated', fleetCores: cores } },
    });

  it('charges the fleet for the window and shows what no profile used as __idle__', () => {
    // 16 cores × 1 h × $0.04 = $0.64 = 640000 µ$ for the window.
    const a = attribute({ services: [svc('checkout', 0), svc('indexer', 1)], settings: fleet(16) });
    expect(a.totalMicrodollars).toBe(640_000n);
    const used = (realFolds()[0]?.cpuNanoseconds ?? 0n) + (realFolds()[1]?.cpuNanoseconds ?? 0n);
    const usedMicro = (used * 640_000n) / (16n * 3_600_000_000_000n); // share of capacity, floor
    expect(a.idleMicrodollars).toBeGreaterThanOrEqual(640_000n - usedMicro - 2n);
    expect(a.idleMicrodollars).toBeLessThanOrEqual(640_000n - usedMicro);
    expect(a.idle).toEqual([{ source: 'default', microdollars: a.idleMicrodollars, overcommitted: false }]);
    expect(a.teams.find((t) => t.team === IDLE)?.ownMicrodollars).toBe(a.idleMicrodollars);
    expectConserved(a);
  });

  it('scales services down to the fleet when measured use exceeds it, with no idle and a flag', () => {
    // the go-compiler profiles hold minutes of CPU; a 0.001-core fleet for an hour holds 3.6 s
    const a = attribute({ services: [svc('checkout', 0), svc('indexer', 1)], settings: fleet(0.001) });
    expect(a.totalMicrodollars).toBe(40n); // 0.001 × 1 h × $0.04 = $0.00004
    expect(a.idle).toEqual([{ source: 'default', microdollars: 0n, overcommitted: true }]);
    expectConserved(a);
  });

  it('prorates a monthly bill over the window and keeps an allocated source with no profiles all idle', () => {
    const s = settings({
      cost: {
        default: { mode: 'measured' },
        sources: { batch: { mode: 'allocated', bill: { amount: '744.00', per: 'month' }, fleetCores: 10 } },
      },
    });
    // March has 31 days = 744 h: the bill is $1.00 per hour.
    const none = attribute({ services: [], settings: s });
    expect(none.totalMicrodollars).toBe(1_000_000n);
    expect(none.idle).toEqual([{ source: 'batch', microdollars: 1_000_000n, overcommitted: false }]);
    const some = attribute({ services: [svc('indexer', 0, { source: 'batch' }), svc('checkout', 1)], settings: s });
    expect(some.services.find((x) => x.service === 'indexer')).toMatchObject({
      mode: 'allocated',
      priceIds: ['bill:batch'],
    });
    expect(some.services.find((x) => x.service === 'checkout')).toMatchObject({
      mode: 'measured',
      defaultPriced: true,
    });
    expectConserved(some);
  });
});
