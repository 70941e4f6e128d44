import { describe, expect, it } from 'vitest';
import { formatSettingsIssues, priceFileSchema, priceSettingsSchema } from '../../../src/domain/cost/price-settings';

function errors(input: unknown): string[] {
  const r = priceFileSchema.safeParse(input);
  if (r.success) throw new Error('expected the settings to be rejected');
  return formatSettingsIssues(r.error);
}

describe('priceSettingsSchema', () => {
  it('defaults to USD, no prices and measured mode with the whole fleet profiled', () => {
    const s = priceSettingsSchema.parse({});
    expect(s.currency).toBe('USD');
    expect(s.prices).toEqual([]);
    expect(s.cost.default).toEqual({ mode: 'measured', samplingFraction: { num: 1n, den: 1n } });
    expect(s.cost.sources).toEqual({});
  });

  it('parses prices exactly into nano-units per core-hour, from YAML numbers and from strings', () => {
    const s = priceSettingsSchema.parse({
      currency: 'EUR',
      prices: [
        { costPerCoreHour: 0.0316, effectiveFrom: '2026-01-01T00:00:00Z' },
        { costPerCoreHour: '0.031611', effectiveFrom: '2026-06-01', scope: { service: 'checkout' } },
        {
          id: 'eu-list',
          costPerCoreHour: 1.5e-7,
          effectiveFrom: '2026-06-01T02:00:00+02:00',
          scope: { region: 'eu-west-1' },
        },
      ],
    });
    expect(s.currency).toBe('EUR');
    expect(s.prices.map((p) => p.nanosPerCoreHour)).toEqual([31_600_000n, 31_611_000n, 150n]);
    expect(s.prices.map((p) => p.effectiveFromMs)).toEqual([
      Date.UTC(2026, 0, 1),
      Date.UTC(2026, 5, 1),
      Date.UTC(2026, 5, 1),
    ]);
    expect(s.prices.map((p) => p.id)).toEqual([
      'default@2026-01-01T00:00:00.000Z',
      'service=checkout@2026-06-01T00:00:00.000Z',
      'eu-list',
    ]);
    expect(s.prices[2]?.scope).toEqual({ kind: 'region', value: 'eu-west-1' });
  });

  it('reads allocated mode with fleet cores, a monthly bill and a sampling fraction', () => {
    const s = priceSettingsSchema.parse({
      cost: {
        default: { mode: 'measured', samplingFraction: 0.25 },
        sources: {
          batch: {
            mode: 'allocated',
            fleetCores: 64,
            bill: { amount: '12000.50', per: 'month' },
            scope: { cluster: 'batch-1' },
          },
        },
      },
    });
    expect(s.cost.default).toEqual({ mode: 'measured', samplingFraction: { num: 25n, den: 100n } });
    expect(s.cost.sources['batch']).toMatchObject({
      mode: 'allocated',
      fleetCores: 64_000_000_000n,
      bill: { amount: 12_000_500_000n, per: 'month' },
    });
  });

  it('names the key of every problem at once', () => {
    expect(
      errors({
        currency: 'usd',
        prices: [
          { costPerCoreHour: -1, effectiveFrom: '2026-02-30' },
          { effectiveFrom: '2026-01-01T00:00:00Z', scope: { zone: 'x' } },
          { costPerCoreHour: '0.0000000001', effectiveFrom: '2026-01-01' },
          { costPerCoreHour: 0.1234567890123456, effectiveFrom: '2026-01-01T00:00:00' },
        ],
        cost: {
          default: { mode: 'allocated' },
          sources: { a: { mode: 'x' }, b: { mode: 'measured', samplingFraction: 1.5 } },
        },
        extra: 1,
      }),
    ).toEqual([
      'currency: currency must be an ISO 4217 code such as USD, EUR',
      'prices[0].costPerCoreHour: costPerCoreHour must be zero or more, got -1',
      'prices[0].effectiveFrom: effectiveFrom "2026-02-30" is not a valid ISO 8601 date or date-time with a zone (e.g. 2026-01-01T00:00:00Z)',
      'prices[1].costPerCoreHour: missing costPerCoreHour',
      'prices[1].scope: Unrecognized key: "zone"',
      'prices[1].scope: scope must name exactly one of service, cluster or region',
      'prices[2].costPerCoreHour: costPerCoreHour 0.0000000001 has more than 9 decimal places (the finest supported unit is 1e-9)',
      'prices[3].costPerCoreHour: costPerCoreHour 0.1234567890123456 has more than 15 significant digits, which a YAML number cannot hold exactly; quote it as a string',
      'prices[3].effectiveFrom: effectiveFrom "2026-01-01T00:00:00" is not a valid ISO 8601 date or date-time with a zone (e.g. 2026-01-01T00:00:00Z)',
      'cost.default: allocated mode needs fleetCores or bill (or both)',
      'cost.sources.a.mode: mode must be "measured" or "allocated"',
      'cost.sources.b.samplingFraction: samplingFraction must be a decimal in (0, 1], got 1.5',
      '(root): Unrecognized key: "extra"',
    ]);
  });

  it('rejects two prices for the same scope and instant, and duplicate ids', () => {
    expect(
      errors({
        prices: [
          { costPerCoreHour: 1, effectiveFrom: '2026-01-01' },
          { costPerCoreHour: 2, effectiveFrom: '2026-01-01T00:00:00Z' },
          { id: 'x', costPerCoreHour: 1, effectiveFrom: '2026-02-01', scope: { cluster: 'a' } },
          { id: 'x', costPerCoreHour: 1, effectiveFrom: '2026-03-01', scope: { cluster: 'a' } },
        ],
      }),
    ).toEqual([
      'prices[1]: two prices with the same scope and effectiveFrom (also prices[0])',
      'prices[3]: duplicate price id "x" (also prices[2])',
    ]);
  });

  it('requires exactly one scope key', () => {
    expect(
      errors({ prices: [{ costPerCoreHour: 1, effectiveFrom: '2026-01-01', scope: { service: 'a', region: 'b' } }] }),
    ).toEqual(['prices[0].scope: scope must name exactly one of service, cluster or region']);
  });
});
