import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttributionService } from '../../src/cost/attribution.service';
import { parseCsv } from '../../src/domain/export/csv';
import { FOCUS_COLUMNS } from '../../src/domain/export/focus';
import { demoProfiles, HOUR, storeProfile } from '../cost/support';
import { attributeDemo, startApiApp, type ApiTestApp } from './support';

let app: ApiTestApp;
let exporter: string;
let read: string;

/** The demo days, plus checkout's first profile again in the last hour of November and the first of December. */
beforeAll(async () => {
  app = await startApiApp();
  await attributeDemo(app);
  const db = app.app.get(DataSource);
  const attribution = app.app.get(AttributionService);
  const checkout = demoProfiles(['checkout', 'search'])[0]!;
  for (const at of ['2026-11-30T23:00:00Z', '2026-12-01T00:00:00Z']) {
    const start = new Date(at);
    await storeProfile(db, checkout, { start, salt: at });
    await db.transaction((tx) => attribution.attributeWindow({ start, end: new Date(start.getTime() + HOUR) }, tx));
  }
  exporter = await app.key('export');
  read = await app.key('read');
});
afterAll(() => app?.close());

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const toMicro = (text: string) => {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
};

function checkRows(rows: Array<Record<string, string | null>>): void {
  for (const row of rows) {
    for (const column of [
      'BilledCost',
      'ListCost',
      'EffectiveCost',
      'ContractedCost',
      'PricingQuantity',
      'ConsumedQuantity',
    ])
      expect(row[column], column).toMatch(DECIMAL);
    for (const column of ['BillingPeriodStart', 'BillingPeriodEnd', 'ChargePeriodStart', 'ChargePeriodEnd'])
      expect(row[column], column).toMatch(TIME);
    expect(row).toMatchObject({
      ChargeCategory: 'Usage',
      ServiceCategory: 'Compute',
      BillingCurrency: 'USD',
      PricingUnit: 'Core-Hours',
      ConsumedUnit: 'Core-Hours',
    });
    expect(row.ChargeClass ?? '').toBe('');
    expect([row.ListCost, row.EffectiveCost, row.ContractedCost]).toEqual([
      row.BilledCost,
      row.BilledCost,
      row.BilledCost,
    ]);
    expect(toMicro(row.BilledCost!)).toBe(BigInt(row.x_CostMicrounits!));
    // A charge period lies inside its billing period, a calendar month.
    const [cs, ce, bs, be] = [
      row.ChargePeriodStart,
      row.ChargePeriodEnd,
      row.BillingPeriodStart,
      row.BillingPeriodEnd,
    ].map((t) => Date.parse(t!));
    expect(cs! < ce! && bs! <= cs! && ce! <= be!).toBe(true);
    const start = new Date(bs!);
    expect([start.getUTCDate(), start.getUTCHours(), new Date(be!).getUTCDate()]).toEqual([1, 0, 1]);
    expect(new Date(be!).getUTCMonth()).toBe((start.getUTCMonth() + 1) % 12);
    const tags = JSON.parse(row.Tags!) as Record<string, string>;
    if (row.ResourceId !== '__idle__') expect(tags.team).toBe(row.x_Team);
  }
}

describe('GET /api/v1/exports/focus', () => {
  it('CSV: the FOCUS columns, types and billing periods; Σ BilledCost = the books total = the JSON total', async () => {
    const q = 'from=2026-11-01&to=2026-12-02';
    const r = await app.get(`/api/v1/exports/focus?${q}`, exporter);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="focus-2026-11-01-2026-12-02-day.csv"');
    const [header, ...lines] = parseCsv(r.text);
    expect(header).toEqual([...FOCUS_COLUMNS]);
    const rows = lines.map((l) => Object.fromEntries(header!.map((c, i) => [c, l[i] ?? null])));
    checkRows(rows);
    const total = rows.reduce((s, row) => s + toMicro(row.BilledCost!), 0n);
    const books = (await app.get(`/api/v1/books?${q}`, read)).body;
    const costs = (await app.get(`/api/v1/costs?${q}&groupBy=team`, read)).body;
    expect(total).toBe(BigInt(books.lines.at(-1).total.microdollars));
    expect(total).toBe(BigInt(costs.total.cost.microdollars));
    expect(new Set(rows.map((row) => row.ChargePeriodStart))).toEqual(
      new Set(['2026-11-20T00:00:00Z', '2026-11-21T00:00:00Z', '2026-11-30T00:00:00Z', '2026-12-01T00:00:00Z']),
    );
    const december = rows.find((row) => row.ChargePeriodStart === '2026-12-01T00:00:00Z')!;
    expect([december.BillingPeriodStart, december.BillingPeriodEnd]).toEqual([
      '2026-12-01T00:00:00Z',
      '2027-01-01T00:00:00Z',
    ]);
    expect(rows.find((row) => row.ResourceId === 'checkout')).toMatchObject({
      x_Team: 'payments',
      x_PriceId: 'service=checkout@2026-01-01T00:00:00.000Z',
      x_PriceScheduleId: expect.stringMatching(/^sha256:/),
    });
  });

  it('label=version: one row per service and version, the version in Tags, Σ per service = its cost, Σ = the books', async () => {
    const q = 'from=2026-11-20&to=2026-11-22';
    const r = await app.get(`/api/v1/exports/focus?${q}&label=version&format=jsonl`, exporter);
    expect(r.status).toBe(200);
    const rows = r.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string | null>);
    checkRows(rows);
    const checkout = rows.filter((row) => row.ResourceId === 'checkout');
    const versions = checkout.map((row) => (JSON.parse(row.Tags!) as Record<string, string>).version);
    // The demo profiles: checkout 1.14.0 on both days, 1.15.0 from 09:00 on the 21st; samples the profiler took
    // outside a request (garbage collection, other threads) carry no version: __none__, as on the facts.
    expect(new Set(versions)).toEqual(new Set(['1.14.0', '1.15.0', '__none__']));
    for (const row of checkout) expect(JSON.parse(row.Tags!)).toMatchObject({ team: 'payments' });
    const service = (await app.get(`/api/v1/costs?${q}&groupBy=service&service=checkout`, read)).body;
    expect(checkout.reduce((s, row) => s + toMicro(row.BilledCost!), 0n)).toBe(
      BigInt(service.rows[0].cost.microdollars),
    );
    const books = (await app.get(`/api/v1/books?${q}`, read)).body;
    expect(rows.reduce((s, row) => s + toMicro(row.BilledCost!), 0n)).toBe(
      BigInt(books.lines.at(-1).total.microdollars),
    );
    const bad = await app.get(`/api/v1/exports/focus?${q}&label=colour`, exporter);
    expect(bad).toMatchObject({ status: 400, body: { param: 'label' } });
  });

  it('JSON lines, hourly across a month end: the same rows as CSV, each charge hour in its own month', async () => {
    const q = 'from=2026-11-30T22:00:00Z&to=2026-12-01T02:00:00Z&granularity=hour';
    const r = await app.get(`/api/v1/exports/focus?${q}&format=jsonl`, exporter);
    expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const rows = r.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string | null>);
    checkRows(rows);
    expect(rows.map((row) => [row.ChargePeriodStart, row.BillingPeriodStart])).toEqual([
      ['2026-11-30T23:00:00Z', '2026-11-01T00:00:00Z'],
      ['2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'],
    ]);
    const csv = parseCsv((await app.get(`/api/v1/exports/focus?${q}`, exporter, { accept: 'text/csv' })).text);
    expect(csv.slice(1).map((l) => l[0])).toEqual(rows.map((row) => row.BilledCost));
    const books = (await app.get(`/api/v1/books?${q.replace('granularity', 'step')}`, read)).body;
    expect(rows.reduce((s, row) => s + toMicro(row.BilledCost!), 0n)).toBe(
      BigInt(books.lines.at(-1).total.microdollars),
    );
  });

  it("one service's rows, and per function (x_Function): Σ BilledCost = the service's cost", async () => {
    const q = 'from=2026-11-20&to=2026-11-22';
    const service = (await app.get(`/api/v1/costs?${q}&groupBy=service&service=checkout`, read)).body;
    const parse = (text: string) => {
      const [header, ...lines] = parseCsv(text);
      return lines.map((l) => Object.fromEntries(header!.map((c, i) => [c, l[i] ?? null])));
    };
    const one = parse((await app.get(`/api/v1/exports/focus?${q}&service=checkout`, exporter)).text);
    checkRows(one);
    expect(new Set(one.map((r) => r.ResourceId))).toEqual(new Set(['checkout']));
    expect(one.reduce((s, r) => s + toMicro(r.BilledCost!), 0n)).toBe(BigInt(service.total.cost.microdollars));
    const perFunction = parse(
      (await app.get(`/api/v1/exports/focus?${q}&service=checkout&per=function`, exporter)).text,
    );
    checkRows(perFunction);
    expect(perFunction.length).toBeGreaterThan(10);
    expect(perFunction.every((r) => r.ResourceId === 'checkout' && r.x_Function && r.x_Team === 'payments')).toBe(true);
    for (const day of ['2026-11-20T00:00:00Z', '2026-11-21T00:00:00Z']) {
      const rows = perFunction.filter((r) => r.ChargePeriodStart === day);
      const serviceRow = one.find((r) => r.ChargePeriodStart === day)!;
      expect(rows.reduce((s, r) => s + toMicro(r.BilledCost!), 0n)).toBe(toMicro(serviceRow.BilledCost!));
      expect(new Set(rows.map((r) => r.x_Function)).size).toBe(rows.length);
      // CPU apportioned by cost: never more than the service's.
      expect(rows.reduce((s, r) => s + BigInt(r.x_CpuNanoseconds!), 0n) <= BigInt(serviceRow.x_CpuNanoseconds!)).toBe(
        true,
      );
    }
    const functions = (
      await app.get(`/api/v1/costs?from=2026-11-21&to=2026-11-22&groupBy=function&service=checkout&limit=1000`, read)
    ).body;
    expect(
      new Map(
        perFunction
          .filter((r) => r.ChargePeriodStart === '2026-11-21T00:00:00Z')
          .map((r) => [r.x_Function, String(toMicro(r.BilledCost!))]),
      ),
    ).toEqual(
      new Map(
        functions.rows
          .filter((r: { cost: { microdollars: string } }) => r.cost.microdollars !== '0')
          .map((r: { key: string; cost: { microdollars: string } }) => [r.key, r.cost.microdollars]),
      ),
    );
    expect((await app.get(`/api/v1/exports/focus?${q}&per=function`, exporter)).body).toMatchObject({
      statusCode: 400,
      param: 'per',
    });
  });

  it('needs the export scope, audits the call, and refuses bad parameters before streaming', async () => {
    expect((await app.get('/api/v1/exports/focus?from=2026-11-01&to=2026-12-01', read)).status).toBe(403);
    const bad = await app.get('/api/v1/exports/focus?from=2026-11-01T01:00:00Z&to=2026-12-01', exporter);
    expect(bad.body).toMatchObject({ statusCode: 400, param: 'from' });
    expect(
      (await app.get('/api/v1/exports/focus?from=2026-11-01&to=2026-12-01&granularity=week', exporter)).body.param,
    ).toBe('granularity');
    await new Promise((r) => setTimeout(r, 100));
    const audit = (await app.app
      .get(DataSource)
      .query(
        `SELECT key_name, status, scope FROM api_audit WHERE path = '/api/v1/exports/focus' ORDER BY id`,
      )) as Array<{ status: number; scope: string }>;
    expect(audit.map((a) => a.status)).toEqual(expect.arrayContaining([200, 403, 400]));
    expect(audit.every((a) => a.scope === 'export')).toBe(true);
  });
});
