import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.loader';

const load = (overrides: Record<string, unknown>) =>
  loadSettings({ env: {}, cwd: '/tmp', configFile: null, overrides });

describe('the price section of the settings file', () => {
  it('is validated exactly, with defaults', () => {
    const settings = load({
      prices: [{ costPerCoreHour: '0.0316', effectiveFrom: '2026-01-01', scope: { service: 'checkout' } }],
    });
    expect(settings.currency).toBe('USD');
    expect(settings.prices).toEqual([
      {
        id: 'service=checkout@2026-01-01T00:00:00.000Z',
        nanosPerCoreHour: 31_600_000n,
        effectiveFromMs: Date.parse('2026-01-01T00:00:00Z'),
        scope: { kind: 'service', value: 'checkout' },
      },
    ]);
    expect(settings.cost.default).toEqual({ mode: 'measured', samplingFraction: { num: 1n, den: 1n } });
  });

  it('names the key of a bad value, and stays strict about unknown keys', () => {
    expect(() =>
      load({
        prices: [
          { costPerCoreHour: 0.03, effectiveFrom: '2026-01-01' },
          { costPerCoreHour: -1, effectiveFrom: '2026-01-01', scope: { region: 'eu' } },
        ],
      }),
    ).toThrow(
      /^invalid setting prices\[1\]\.costPerCoreHour( \(override\))?: costPerCoreHour must be zero or more, got -1$/,
    );
    expect(() => load({ prices: [{ costPerCoreHour: 0.03, effectiveFrom: '2026-01-01', scop: {} }] })).toThrow(
      /^invalid setting prices\[0\]\.scop( \(override\))?: unknown key$/,
    );
    expect(() => load({ currency: 'usd' })).toThrow(
      'invalid setting currency (override): currency must be an ISO 4217 code',
    );
    expect(() => load({ cost: { default: { mode: 'allocated' } } })).toThrow(
      'invalid setting cost.default (override): allocated mode needs fleetCores or bill',
    );
    expect(() => load({ pricez: [] })).toThrow('invalid setting pricez (override): unknown key');
  });
});
