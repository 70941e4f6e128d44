import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDataSource, truncateTables } from '../support/database';
import type { ApiTestApp } from '../api/support';
import { API_PERIOD, findings, PERIOD, startDashboardApp } from './support';

/** The dashboard pages over HTTP (no browser): the numbers are the API's, names are escaped, bad periods are named. */
describe('dashboard pages', () => {
  let app: ApiTestApp;
  let key: string;

  beforeAll(async () => {
    await truncateTables(await testDataSource());
    app = await startDashboardApp();
    key = await app.key('read');
  }, 180_000);
  afterAll(async () => app?.close());

  const page = async (path: string) => {
    const response = await fetch(`${app.baseUrl}${path}`, { redirect: 'manual' });
    // Handlebars escapes `=` and `&` in attributes too; the assertions read the page as a browser would.
    const html = (await response.text())
      .replaceAll('&#x3D;', '=')
      .replaceAll('&quot;', '"')
      .replaceAll('&#x27;', "'")
      .replaceAll('&amp;', '&');
    return { status: response.status, html, headers: response.headers };
  };

  it('the overview shows the API total, every team, the books balanced and the open regressions', async () => {
    const api = await app.get(`/api/v1/costs?${API_PERIOD}&groupBy=team&limit=1000`, key);
    expect(api.status).toBe(200);
    const { status, html } = await page(`/?${PERIOD}`);
    expect(status).toBe(200);
    const dollars = (micro: string) =>
      new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(Number(micro) / 1e6);
    expect(html).toContain(`<p class="big" id="org-total">${dollars(api.body.total.cost.microdollars)}</p>`);
    for (const row of api.body.rows as Array<{ key: string }>) expect(html).toContain(`>${row.key}<`);
    expect(html).toMatch(/id="books-difference">\$0\.00</);
    const open = await findings(app);
    expect(open.length).toBeGreaterThan(0);
    expect(html).toContain(`/regressions/${open[0]!.fingerprint}`);
  });

  it('a team page: services, label breakdowns, CSV links to the API, a flame graph source', async () => {
    const { status, html } = await page(`/teams/payments?${PERIOD}`);
    expect(status).toBe(200);
    for (const service of ['checkout', 'payments-api', 'ledger']) expect(html).toContain(`>${service}</a>`);
    expect(html).toContain('Cost by endpoint');
    expect(html).toContain('/api/v1/costs?from=2026-11-20T00%3A00%3A00.000Z');
    expect(html).toContain('data-src="/flamegraphs/teams/payments?from=2026-11-20&to=2026-11-21"');
    const flame = await fetch(`${app.baseUrl}/flamegraphs/teams/payments?${PERIOD}`);
    expect(flame.status).toBe(200);
    const body = (await flame.json()) as { kind: string; names: string[]; parent: number[]; total: string };
    expect(body.kind).toBe('flame');
    expect(body.names).toContain('signOrder');
    expect(BigInt(body.total)).toBeGreaterThan(0n);
  });

  it('a service page offers its merged profile as pprof, speedscope and folded text', async () => {
    const { status, html } = await page(`/services/checkout?${PERIOD}`);
    expect(status).toBe(200);
    expect(html).toContain('href="/teams/payments?from=2026-11-20&to=2026-11-21"');
    const pprof = await fetch(`${app.baseUrl}/services/checkout/profile?${PERIOD}&format=pprof`);
    expect(pprof.status).toBe(200);
    expect(pprof.headers.get('content-disposition')).toBe(
      'attachment; filename="checkout-2026-11-20-2026-11-22.pb.gz"',
    );
    const bytes = Buffer.from(await pprof.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const folded = await (await fetch(`${app.baseUrl}/services/checkout/profile?${PERIOD}&format=folded`)).text();
    expect(folded).toMatch(/signOrder \d+\n/);
  });

  it('a function page lists the services that pay for it', async () => {
    const { status, html } = await page(`/functions/${encodeURIComponent('signOrder')}?${PERIOD}`);
    expect(status).toBe(200);
    expect(html).toContain('Which services pay for it');
    // Over time, per paying service (the chart's table of figures).
    expect(html).toContain('<th scope="col" class="num">checkout</th>');
    expect(html).toContain('href="/services/checkout?');
  });

  it('a regression page carries its figures and a differential flame graph of its two sides', async () => {
    // The scan of the two demo days finds recommendations 3.2.0's new diversify (checkout's is too diluted in a day).
    const [finding] = (await findings(app)).filter((f) => f.service === 'recommendations');
    expect(finding).toBeDefined();
    const { status, html } = await page(`/regressions/${finding!.fingerprint}`);
    expect(status).toBe(200);
    expect(html).toContain('Differential flame graph');
    const diff = await fetch(`${app.baseUrl}/flamegraphs/regressions/${finding!.fingerprint}`);
    expect(diff.status).toBe(200);
    const body = (await diff.json()) as { kind: string; change: number[] };
    expect(body.kind).toBe('diff');
    expect(body.change.some((c) => c === 1 || c === 3)).toBe(true);
  });

  it('a period the picker cannot read is a 400 page naming the parameter; an unknown team is a 404 page', async () => {
    const bad = await page('/teams/payments?week=2026-W60');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^text\/html/);
    expect(bad.html).toContain('week: "2026-W60" is not an ISO week');
    const missing = await page(`/teams/nobody?${PERIOD}`);
    expect(missing.status).toBe(404);
    expect(missing.html).toContain('no team "nobody"');
  });

  it('CSV links work from a page session without a key, and the API still refuses a client without either', async () => {
    const first = await fetch(`${app.baseUrl}/?${PERIOD}`);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toMatch(/^flamebill_session=v1\./);
    const csvUrl = `${app.baseUrl}/api/v1/costs?${API_PERIOD}&groupBy=team&format=csv`;
    const withSession = await fetch(csvUrl, { headers: { cookie } });
    expect(withSession.status).toBe(200);
    expect(withSession.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await fetch(csvUrl)).status).toBe(401);
    const forged = cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await fetch(csvUrl, { headers: { cookie: forged } })).status).toBe(401);
    // A session reads; it never exports or administers.
    const focus = await fetch(`${app.baseUrl}/api/v1/exports/focus?${API_PERIOD}`, { headers: { cookie } });
    expect(focus.status).toBe(401);
  });
});
