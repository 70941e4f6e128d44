import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coreHours, fixed, share } from '../../src/domain/export/api-format';
import { csvLine, csvTable, parseCsv } from '../../src/domain/export/csv';
import { billingPeriodOf, FOCUS_COLUMNS, focusRow, focusTime, type FocusCharge } from '../../src/domain/export/focus';

const PARTIES = {
  billingAccountId: 'acct',
  billingAccountName: 'Acme',
  providerName: 'flamebill',
  publisherName: 'flamebill',
  invoiceIssuerName: 'flamebill',
  serviceName: 'Profiled CPU',
};

describe('CSV (RFC 4180)', () => {
  it('quotes only fields with a comma, quote, CR or LF, doubling quotes; CRLF line ends; null is empty', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', 'two\nlines', 'cr\r', null, undefined, 12n, true])).toBe(
      'a,"b,c","say ""hi""","two\nlines","cr\r",,,12,true\r\n',
    );
    expect(csvTable(['x', 'y'], [])).toBe('x,y\r\n');
  });

  it('parses back what it writes, for any strings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string(), { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 5 }),
        (rows) => {
          const width = rows[0]!.length;
          const table = rows.map((r) => [...r, ...Array<string>(width).fill('')].slice(0, width));
          expect(parseCsv(csvTable(table[0]!, table.slice(1)))).toEqual(table);
        },
      ),
    );
  });
});

describe('API number formats', () => {
  it('core-hours with 9 places, rounded half up; shares with 6; null share of a zero total', () => {
    expect(coreHours(3_600_000_000_000n)).toBe('1.000000000');
    expect(coreHours(1_800n)).toBe('0.000000001'); // 0.5e-9 rounds up
    expect(coreHours(1_799n)).toBe('0.000000000');
    expect(coreHours(0n)).toBe('0.000000000');
    expect(share(1n, 3n)).toBe('0.333333');
    expect(share(2n, 3n)).toBe('0.666667');
    expect(share(5n, 5n)).toBe('1.000000');
    expect(share(1n, 0n)).toBeNull();
    expect(fixed(-1234n, 3)).toBe('-1.234');
    expect(fixed(5n, 0)).toBe('5');
  });
});

describe('FOCUS rows', () => {
  const charge = (start: string, end: string, over: Partial<FocusCharge> = {}): FocusCharge => ({
    periodStartMs: Date.parse(start),
    periodEndMs: Date.parse(end),
    resource: 'checkout',
    team: 'payments',
    system: 'shop',
    microunits: 1_234_567n,
    cpuNanoseconds: 7_200_000_000_000n,
    priceId: 'default@2026-01-01T00:00:00.000Z',
    priceScheduleIds: ['sha256:a'],
    catalogRevisions: ['sha256:c'],
    ...over,
  });

  it('fills every column; money as decimals of micro-unit precision; billing period = the calendar month', () => {
    const row = focusRow(charge('2026-12-31T00:00:00Z', '2027-01-01T00:00:00Z'), 'USD', PARTIES);
    expect(Object.keys(row)).toEqual([...FOCUS_COLUMNS]);
    expect(row).toMatchObject({
      BilledCost: '1.234567',
      ListCost: '1.234567',
      BillingCurrency: 'USD',
      BillingPeriodStart: '2026-12-01T00:00:00Z',
      BillingPeriodEnd: '2027-01-01T00:00:00Z',
      ChargePeriodStart: '2026-12-31T00:00:00Z',
      ChargePeriodEnd: '2027-01-01T00:00:00Z',
      ChargeCategory: 'Usage',
      ChargeClass: null,
      PricingQuantity: '2.000000000',
      ConsumedUnit: 'Core-Hours',
      ResourceId: 'checkout',
      Tags: '{"team":"payments","system":"shop"}',
      x_CostMicrounits: '1234567',
    });
    expect(
      focusRow(
        charge('2026-11-21T00:00:00Z', '2026-11-22T00:00:00Z', {
          resource: '__idle__',
          team: null,
          system: null,
          cpuNanoseconds: null,
          priceId: null,
        }),
        'EUR',
        PARTIES,
      ),
    ).toMatchObject({
      PricingQuantity: '0.000000000',
      Tags: '{}',
      x_Team: null,
      ChargeDescription: 'Allocated CPU capacity no profiled service used',
    });
  });

  it('refuses a charge period that crosses a month end', () => {
    expect(() => focusRow(charge('2026-11-30T12:00:00Z', '2026-12-01T12:00:00Z'), 'USD', PARTIES)).toThrow(RangeError);
  });

  it('billing periods and times', () => {
    expect(billingPeriodOf(Date.parse('2028-02-29T23:00:00Z'))).toEqual({
      startMs: Date.parse('2028-02-01T00:00:00Z'),
      endMs: Date.parse('2028-03-01T00:00:00Z'),
    });
    expect(focusTime(Date.parse('2026-11-21T06:00:00.000Z'))).toBe('2026-11-21T06:00:00Z');
  });
});
