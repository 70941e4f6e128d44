import { describe, expect, it } from 'vitest';
import { priceScheduleOf, priceSettingsOf } from '../../src/cost/price-schedule';
import { priceSettingsSchema } from '../../src/domain/cost';

describe('a stored price schedule', () => {
  it.each([
    ['defaults (OpenCost price, measured)', {}],
    [
      'scoped prices, a sampled source and an allocated fleet with a bill',
      {
        currency: 'EUR',
        prices: [
          { costPerCoreHour: '0.0316', effectiveFrom: '2026-01-01' },
          {
            id: 'eu-2027',
            costPerCoreHour: '0.041',
            effectiveFrom: '2027-01-01T00:00:00Z',
            scope: { region: 'eu-west-1' },
          },
          { costPerCoreHour: 0.05, effectiveFrom: '2026-06-01', scope: { service: 'checkout' } },
        ],
        cost: {
          default: {
            mode: 'allocated',
            fleetCores: '2400.5',
            bill: { amount: '123456.789012', per: 'month' },
            scope: { cluster: 'prod' },
          },
          sources: { pyro: { mode: 'measured', samplingFraction: '0.25' } },
        },
      },
    ],
  ])('gives back exactly the settings it was made from: %s', (_name, raw) => {
    const settings = priceSettingsSchema.parse(raw);
    const schedule = priceScheduleOf(settings);
    const stored = JSON.parse(JSON.stringify(schedule.document)) as unknown; // as jsonb hands it back
    const back = priceSettingsOf(stored);
    expect(back).toEqual(settings);
    expect(priceScheduleOf(back).id).toBe(schedule.id);
  });
});
