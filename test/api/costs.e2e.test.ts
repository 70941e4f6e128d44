import { DataSource } from 'typeorm';
import { CostQueryService } from '../../src/cost/cost-query.service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/domain/export/csv';
import { dumpFacts } from '../cost/support';
import { attributeDemo, DAY, startApiApp, type ApiTestApp } from './support';

let app: ApiTestApp;
let read: string;

beforeAll(async () => {
  app = await startApiApp();
  await attributeDemo(app);
  read = await app.key('read');
});
afterAll(() => app?.close());

const DAY_Q = 'from=2026-11-21&to=2026-11-22';
const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);

describe('GET /api/v1/costs', () => {
  it('groups by team with __unowned__ so rows sum to the total, which is the books total; money and CPU as strings', async () => {
    const { status, body } = await app.get(`/api/v1/costs?${DAY_Q}&groupBy=team`, read);
    expect(status).toBe(200);
    const books = (await app.get(`/api/v1/books?${DAY_Q}`, read)).body;
    const total = BigInt(body.total.cost.microdollars);
    expect(total).toBeGreaterThan(0n);
    expect(sum(body.rows.map((r: { cost: { microdollars: string } }) => BigInt(r.cost.microdollars)))).toBe(total);
    expect(BigInt(books.lines.at(-1).total.microdollars)).toBe(total);
    expect(body.rows.map((r: { key: string }) => r.key)).toContain('__unowned__');
    expect(body.period).toMatchObject({
      step: 'day',
      from: '2026-11-21T00:00:00.000Z',
      to: '2026-11-22T00:00:00.000Z',
      partial: false,
      previous: { from: '2026-11-20T00:00:00.000Z' },
    });
    for (const r of body.rows) {
      expect(r.cost).toEqual({
        microdollars: expect.stringMatching(/^\d+$/),
        dollars: expect.stringMatching(/^\d+(\.\d{1,6})?$/),
      });
      expect(r.cpuNanoseconds).toMatch(/^\d+$/);
      expect(r.coreHours).toMatch(/^\d+\.\d{9}$/);
      expect(r.share).toMatch(/^[01]\.\d{6}$/);
      expect(r.change.cost.microdollars).toBe(String(BigInt(r.cost.microdollars) - BigInt(r.previous.microdollars)));
    }
    // Shares are the rows' part of the total (rounded to 6 places).
    const shares = sum(body.rows.map((r: { share: string }) => BigInt(r.share.replace('.', ''))));
    expect(Number(shares - 1_000_000n)).toBeLessThanOrEqual(body.rows.length);
  });

  it('pagination by cursor visits every row exactly once, in the order of one big page', async () => {
    for (const groupBy of ['service', 'function', 'label:endpoint']) {
      const all = (await app.get(`/api/v1/costs?${DAY_Q}&groupBy=${groupBy}&limit=1000`, read)).body;
      const keys: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { body: { rows: Array<{ key: string }>; nextCursor: string | null } } = await app.get(
          `/api/v1/costs?${DAY_Q}&groupBy=${groupBy}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          read,
        );
        keys.push(...page.body.rows.map((r) => r.key));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor && pages < 500);
      expect({ groupBy, keys }).toEqual({ groupBy, keys: all.rows.map((r: { key: string }) => r.key) });
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.length).toBeGreaterThan(2);
    }
  });

  it('filters by team and service, finds which services pay for a function, and takes the OpenCost aliases', async () => {
    const services = (await app.get(`/api/v1/costs?${DAY_Q}&groupBy=service`, read)).body;
    const checkout = services.rows.find((r: { key: string }) => r.key === 'checkout');
    const one = (await app.get(`/api/v1/costs?${DAY_Q}&groupBy=service&service=checkout`, read)).body;
    expect(one.rows).toEqual([{ ...checkout, share: '1.000000' }]);
    const team = (await app.get(`/api/v1/costs?${DAY_Q}&groupBy=service&team=${checkout.detail}`, read)).body;
    expect(team.rows.map((r: { key: string }) => r.key)).toContain('checkout');
    const fn = (await app.get(`/api/v1/costs?${DAY_Q}&groupBy=function&limit=1`, read)).body.rows[0];
    const payers = (
      await app.get(`/api/v1/costs?${DAY_Q}&groupBy=service&function=${encodeURIComponent(fn.key)}`, read)
    ).body;
    expect(BigInt(payers.total.cost.microdollars)).toBe(
      sum(payers.rows.map((r: { cost: { microdollars: string } }) => BigInt(r.cost.microdollars))),
    );
    expect(payers.rows.length).toBeGreaterThan(0);
    const alias = (
      await app.get(`/api/v1/costs?window=2026-11-21T00:00:00Z,2026-11-22T00:00:00Z&aggregate=service`, read)
    ).body;
    expect(alias.rows).toEqual(services.rows);
    const today = Math.floor(Date.now() / DAY) * DAY;
    const yesterday = (await app.get(`/api/v1/costs?window=yesterday`, read)).body;
    expect([yesterday.period.from, yesterday.period.to]).toEqual([
      new Date(today - DAY).toISOString(),
      new Date(today).toISOString(),
    ]);
    const week = (await app.get(`/api/v1/costs?window=7d`, read)).body;
    expect([week.period.from, week.period.to]).toEqual([
      new Date(today - 7 * DAY).toISOString(),
      new Date(today).toISOString(),
    ]);
  });

  it('answers CSV (format=csv or Accept: text/csv) with the same rows, RFC 4180', async () => {
    const json = (await app.get(`/api/v1/costs?${DAY_Q}&groupBy=function&limit=20`, read)).body;
    const byParam = await app.get(`/api/v1/costs?${DAY_Q}&groupBy=function&limit=20&format=csv`, read);
    const byAccept = await app.get(`/api/v1/costs?${DAY_Q}&groupBy=function&limit=20`, read, { accept: 'text/csv' });
    expect(byParam.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(byAccept.text).toBe(byParam.text);
    const [header, ...rows] = parseCsv(byParam.text);
    expect(header).toEqual([
      'key',
      'detail',
      'cost_microdollars',
      'cost_dollars',
      'share',
      'cpu_nanoseconds',
      'core_hours',
      'previous_microdollars',
      'change_microdollars',
      'change_percent',
      'inclusive_microdollars',
    ]);
    expect(rows.map((r) => [r[0], r[2], r[10]])).toEqual(
      json.rows.map((r: { key: string; cost: { microdollars: string }; inclusive: { microdollars: string } }) => [
        r.key,
        r.cost.microdollars,
        r.inclusive.microdollars,
      ]),
    );
    expect(byParam.text.endsWith('\r\n')).toBe(true);
  });

  it('gives closed periods an ETag and Cache-Control, and 304 on If-None-Match; open periods are not cached', async () => {
    const first = await app.get(`/api/v1/costs?${DAY_Q}`, read);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(first.headers.get('cache-control')).toBe('private, max-age=300');
    const again = await app.get(`/api/v1/costs?${DAY_Q}`, read, { 'if-none-match': etag! });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    const csv = await app.get(`/api/v1/costs?${DAY_Q}&format=csv`, read, { 'if-none-match': etag! });
    expect(csv.status).toBe(200);
    const open = await app.get(`/api/v1/costs?window=today`, read);
    expect(open.headers.get('etag')).toBeNull();
    expect(open.headers.get('cache-control')).toBe('private, no-cache');
  });

  it('serves a closed period again from memory (after the key check); an open one is asked again', async () => {
    const costs = app.app.get(CostQueryService);
    const rows = costs.rows.bind(costs);
    let calls = 0;
    costs.rows = (request) => (calls++, rows(request));
    try {
      const url = `/api/v1/costs?from=2026-11-20&to=2026-11-21&groupBy=service`;
      const first = await app.get(url, read);
      const second = await app.get(url, await app.key('read'));
      expect(calls).toBe(1);
      expect(second.text).toBe(first.text);
      expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
      expect((await app.get(url, null)).status).toBe(401);
      expect((await app.get(url, await app.key('export'))).status).toBe(403);
      await app.get(`/api/v1/costs?window=today`, read);
      await app.get(`/api/v1/costs?window=today`, read);
      expect(calls).toBe(3);
    } finally {
      costs.rows = rows;
    }
  });
});

describe('GET /api/v1/books', () => {
  it('balances: every difference is 0, with the provenance of the period', async () => {
    const { status, body } = await app.get('/api/v1/books?from=2026-11-20&to=2026-11-22', read);
    expect(status).toBe(200);
    expect(body.lines.map((l: { label: string }) => l.label)).toEqual(['2026-11-20', '2026-11-21', 'period']);
    for (const line of body.lines) {
      expect(line.balanced).toBe(true);
      for (const d of Object.values(line.differences) as Array<{ microdollars: string }>)
        expect(d.microdollars).toBe('0');
      expect(BigInt(line.teams.microdollars) + BigInt(line.unowned.microdollars) + BigInt(line.idle.microdollars)).toBe(
        BigInt(line.total.microdollars),
      );
    }
    expect(body.lines[2].windows).toBe(9);
    expect(body.provenance.priceSchedules).toHaveLength(1);
    expect(body.provenance.catalogRevisions).toHaveLength(1);
    expect(body.provenance.profileDigestCount).toBeGreaterThan(0);
    const [header, ...rows] = parseCsv(
      (await app.get('/api/v1/books?from=2026-11-20&to=2026-11-22&format=csv', read)).text,
    );
    expect(header).toEqual(
      expect.arrayContaining(['label', 'total_microdollars', 'differences_teamsVsTotal_microdollars', 'balanced']),
    );
    expect(rows.map((r) => r[header!.indexOf('total_microdollars')])).toEqual(
      body.lines.map((l: { total: { microdollars: string } }) => l.total.microdollars),
    );
  });
});

describe('parameters', () => {
  const ENDPOINTS: Array<[string, string[]]> = [
    [
      `/api/v1/costs?${DAY_Q}`,
      [
        'from',
        'to',
        'step',
        'window',
        'groupBy',
        'aggregate',
        'team',
        'service',
        'function',
        'limit',
        'cursor',
        'format',
      ],
    ],
    [`/api/v1/books?${DAY_Q}`, ['from', 'to', 'step', 'window', 'format']],
    [`/api/v1/teams?${DAY_Q}`, ['from', 'to', 'step', 'window', 'format']],
    [`/api/v1/teams/payments?${DAY_Q}`, ['from', 'to', 'step', 'window']],
    [`/api/v1/services/checkout?${DAY_Q}`, ['from', 'to', 'step', 'window']],
    [`/api/v1/leaderboards/services?${DAY_Q}`, ['from', 'to', 'limit', 'by', 'format']],
    ['/api/v1/catalog/revisions?', ['limit', 'format']],
    ['/api/v1/prices?', ['format']],
  ];
  const INJECTIONS = [
    "' OR 1=1 --",
    "x'; DROP TABLE api_keys; --",
    '1; SELECT pg_sleep(5)',
    '"><script>alert(1)</script>',
    "label:x'--",
  ];

  it('SQL injection strings and oversized values in every parameter answer 400 naming it, and change nothing', async () => {
    const db = app.app.get(DataSource);
    const before = [await dumpFacts(db), await db.query(`SELECT count(*) FROM api_keys`)];
    for (const [url, params] of ENDPOINTS) {
      for (const param of params) {
        for (const value of [...INJECTIONS, 'x'.repeat(100_000).slice(0, 5000)]) {
          const base = new URL(url, app.baseUrl);
          base.searchParams.delete(param);
          if (param === 'window') {
            base.searchParams.delete('from');
            base.searchParams.delete('to');
          }
          base.searchParams.set(param, value);
          const r = await app.get(base.pathname + base.search, read);
          expect({ url, param, value: value.slice(0, 30), status: r.status, param_: r.body?.param }).toEqual({
            url,
            param,
            value: value.slice(0, 30),
            status: 400,
            param_: param,
          });
          expect(r.body).toEqual({
            statusCode: 400,
            error: 'Bad Request',
            message: expect.stringMatching(new RegExp(`^${param}: `)),
            param,
          });
        }
      }
    }
    for (const path of [
      "/api/v1/teams/x'%20OR%201=1",
      `/api/v1/services/${'s'.repeat(300)}`,
      "/api/v1/functions/main'%3B%20DROP%20TABLE%20x",
    ]) {
      const r = await app.get(`${path}?${DAY_Q}`, read);
      expect({ path: path.slice(0, 40), status: r.status }).toEqual({ path: path.slice(0, 40), status: 400 });
    }
    expect([await dumpFacts(db), await db.query(`SELECT count(*) FROM api_keys`)]).toEqual(before);
  });

  it('unknown or repeated parameters are 400 naming them; a 400 names the offending parameter', async () => {
    const cases: Array<[string, string]> = [
      [`/api/v1/costs?${DAY_Q}&colour=red`, 'colour'],
      [`/api/v1/costs?${DAY_Q}&limit=1&limit=2`, 'limit'],
      [`/api/v1/costs?from=2026-11-21`, 'to'],
      [`/api/v1/costs?to=2026-11-21`, 'from'],
      [`/api/v1/costs?from=2026-11-22&to=2026-11-21`, 'to'],
      [`/api/v1/costs?from=2026-11-21T06:30:00Z&to=2026-11-22`, 'from'],
      [`/api/v1/costs?${DAY_Q}&window=7d`, 'window'],
      [`/api/v1/costs?${DAY_Q}&groupBy=region`, 'groupBy'],
      [`/api/v1/costs?${DAY_Q}&limit=0`, 'limit'],
      [`/api/v1/costs?${DAY_Q}&cursor=abc`, 'cursor'],
      [`/api/v1/costs?${DAY_Q}&groupBy=team&function=main.main`, 'function'],
      [`/api/v1/leaderboards/services?${DAY_Q}&colour=red`, 'colour'],
      [`/api/v1/leaderboards/regions?${DAY_Q}`, 'board'],
      ['/api/v1/catalog?x=1', 'x'],
    ];
    for (const [url, param] of cases) {
      const r = await app.get(url, read);
      expect({ url, status: r.status, param: r.body.param }).toEqual({ url, status: 400, param });
      expect(r.body.message).toMatch(new RegExp(`^${param}: `));
    }
    const missing = await app.get(`/api/v1/nothing-here`, read);
    expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
  });
});
