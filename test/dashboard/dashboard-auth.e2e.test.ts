import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApiApp, type ApiTestApp } from '../api/support';
import { testDataSource, truncateTables } from '../support/database';

/** `dashboard.auth`: none (the default), proxy (an SSO proxy's header) and apikey (a read key in a cookie). */
describe('dashboard access', () => {
  let app: ApiTestApp | undefined;
  beforeAll(async () => truncateTables(await testDataSource()));
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${app!.baseUrl}${path}`, { headers, redirect: 'manual' });

  it('none: the pages open for anyone and set a session cookie; the API still wants a key or that session', async () => {
    app = await startApiApp();
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toMatch(
      /^flamebill_session=v1\.\d+\.[\w-]{43}; Max-Age=43200; Path=\/;.*HttpOnly; SameSite=Lax/,
    );
    expect((await get('/api/v1/teams?window=7d')).status).toBe(401);
  });

  it('proxy: a request without the configured header is refused, with it the page opens and names the user', async () => {
    app = await startApiApp({ dashboard: { auth: 'proxy', proxy: { header: 'X-Forwarded-Email' } } });
    const refused = await get('/');
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('sign-in proxy');
    expect((await get('/teams/payments')).status).toBe(401);
    expect((await get('/flamegraphs/services/checkout')).status).toBe(401);
    const signedIn = await get('/', { 'x-forwarded-email': 'ada@example.com' });
    expect(signedIn.status).toBe(200);
    expect(await signedIn.text()).toContain('ada@example.com');
    // The proxy's user reads the API's tables (the pages' CSV links), never exports.
    const csv = await get('/api/v1/costs?window=7d&format=csv', { 'x-forwarded-email': 'ada@example.com' });
    expect(csv.status).toBe(200);
    expect((await get('/api/v1/costs?window=7d&format=csv')).status).toBe(401);
  });

  it('apikey: without the cookie a page sends to the login form; a read key signs in, a wrong one is refused', async () => {
    app = await startApiApp({ dashboard: { auth: 'apikey' } });
    const refused = await get('/teams/payments?range=30d');
    expect(refused.status).toBe(303);
    expect(refused.headers.get('location')).toBe('/login?next=%2Fteams%2Fpayments%3Frange%3D30d');
    expect((await get('/flamegraphs/teams/payments')).status).toBe(303);
    const form = await get('/login?next=/teams/payments');
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('name="key" type="password"');

    const login = (key: string, next = '/teams/payments?range=30d') =>
      fetch(`${app!.baseUrl}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ key, next }).toString(),
      });
    expect((await login('fbk_not-a-key')).status).toBe(401);
    const exportOnly = await app.key('export');
    expect((await login(exportOnly)).status).toBe(401);
    // A login form never sends anyone to another site.
    const reader = await app.key('read');
    const elsewhere = await login(reader, '//evil.example/');
    expect(elsewhere.headers.get('location')).toBe('/');
    const ok = await login(reader);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/teams/payments?range=30d');
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toBe(`flamebill_key=${reader}`);
    expect((await get('/', { cookie })).status).toBe(200);
    expect((await get('/api/v1/costs?window=7d&format=csv', { cookie })).status).toBe(200);
    // Sign out forgets the key.
    const out = await fetch(`${app.baseUrl}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie } });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/flamebill_key=;/);
  });
});
