import { describe, expect, it } from 'vitest';
import {
  escapeBody,
  escapeTitle,
  fingerprintMarker,
  formatMoney,
  lifecycleAction,
  resolveRoute,
  routeOfService,
  ticketContent,
  type TicketFinding,
} from '../../../src/domain/regression';
import { parseCatalog } from '../../../src/domain/catalog';
import {
  fromCatalogDocument,
  toCatalogDocument,
  type CatalogDocument,
} from '../../../src/catalog/catalog-document.codec';

const finding: TicketFinding = Object.freeze({
  fingerprint: '0f0086620f179f1de8dde7d0edf17934',
  service: 'shop',
  function: 'main.(*T).<script>alert(1)</script>|*bold*_x_ [link](http://evil) @user #1\nnext',
  sampleType: 'cpu/nanoseconds',
  kind: 'cum',
  team: 'shop-team',
  baseShare: 0.0379,
  currentShare: 0.3976,
  cpuNanosecondsDelta: '1103159144',
  impactPerYearMicros: '1234567890',
  pValue: 1.5e-15,
  baseVersion: 'v1',
  currentVersion: 'v2',
  baseFrom: '2026-11-20T00:00:00.000Z',
  baseTo: '2026-11-21T00:00:00.000Z',
  currentFrom: '2026-11-21T00:00:00.000Z',
  currentTo: '2026-11-22T00:00:00.000Z',
  topCallers: [{ function: 'main.handle.func1', cpuNanosecondsDelta: '1103159144' }],
}) as TicketFinding;

describe('ticket content', () => {
  it('escapes whatever the profile contains: no markup, mention, link or line break survives in the body', () => {
    const { body, title } = ticketContent('opened', finding, { currency: 'USD', marker: 'html-comment' });
    for (const raw of ['<script>', '*bold*', '_x_', '[link]', '(http://evil)', '@user', '|'])
      expect(body).not.toContain(raw);
    // An issue reference is `#1` not inside a character reference (`&#1...;`).
    expect(body).not.toMatch(/(^|[^&])#\d/m);
    expect(body).toContain('main&#46;&#40;&#42;T&#41;&#46;&#60;script&#62;alert&#40;1&#41;');
    expect(body.split('\n').filter((l) => l.includes('alert'))).toHaveLength(1);
    expect(title).not.toContain('\n');
    expect(title).toContain('CPU regression in shop: main.(*T).<script>');
    expect(body).toContain('Cost: 1,234.57 USD a year at the current price');
    expect(body).toContain('3.79% → 39.76%');
    expect(body).toContain('Extra CPU: 1.10 CPU-seconds');
    expect(body).toContain('versions v1 → v2');
    expect(body.endsWith(`<!-- ${fingerprintMarker(finding.fingerprint)} -->`)).toBe(true);
    expect(
      ticketContent('opened', finding, { currency: 'USD', marker: 'last-line' }).body.endsWith(
        `\nflamebill-fingerprint:${finding.fingerprint}`,
      ),
    ).toBe(true);
  });

  it('escapes control characters and bounds the title', () => {
    expect(escapeBody('a\u0000b')).toBe('a&#65533;b');
    expect(escapeTitle('x'.repeat(300))).toHaveLength(240);
    expect(escapeTitle('a\tb')).toBe('a\uFFFDb');
  });

  it('formats micro-units exactly, rounding half up', () => {
    expect(formatMoney('0', 'EUR')).toBe('0.00 EUR');
    expect(formatMoney('4999', 'USD')).toBe('0.00 USD');
    expect(formatMoney('5000', 'USD')).toBe('0.01 USD');
    expect(formatMoney('1234567890123456789', 'USD')).toBe('1,234,567,890,123.46 USD');
    expect(formatMoney('-1500000', 'USD')).toBe('-1.50 USD');
  });
});

describe('ticket content: the flame graph', () => {
  const url = 'https://flamebill.test/regressions/{fingerprint}';
  const line = (body: string) => body.split('\n').filter((l) => l.startsWith('Differential flame graph'));
  it('says the graph is attached (with the dashboard link when set), shows an embed on its own line, else links', () => {
    const graph = { filename: 'flamebill-diff-0f0086620f179f1d.svg' };
    expect(line(ticketContent('opened', finding, { currency: 'USD', marker: 'last-line', graph }).body)).toEqual([
      'Differential flame graph: attached (flamebill-diff-0f0086620f179f1d.svg)',
    ]);
    const both = ticketContent('opened', finding, {
      currency: 'USD',
      marker: 'html-comment',
      dashboardUrl: url,
      graph: { ...graph, embed: '![flamebill-diff](/uploads/abc/flamebill-diff-0f0086620f179f1d.svg)' },
    }).body;
    expect(line(both)).toEqual([
      `Differential flame graph: attached (flamebill-diff-0f0086620f179f1d.svg); on the dashboard: https://flamebill.test/regressions/${finding.fingerprint}`,
    ]);
    expect(both).toContain('\n\n![flamebill-diff](/uploads/abc/flamebill-diff-0f0086620f179f1d.svg)\n');
    expect(
      line(ticketContent('grew', finding, { currency: 'USD', marker: 'last-line', dashboardUrl: url }).body),
    ).toEqual([`Differential flame graph: https://flamebill.test/regressions/${finding.fingerprint}`]);
    expect(line(ticketContent('grew', finding, { currency: 'USD', marker: 'last-line' }).body)).toEqual([]);
  });
});

describe('lifecycle: one fingerprint, one ticket', () => {
  it.each([
    [null, 100n, 'open'],
    [{ state: 'open', notifiedDelta: 100n }, 110n, 'stay'],
    [{ state: 'open', notifiedDelta: 100n }, 125n, 'stay'],
    [{ state: 'open', notifiedDelta: 100n }, 126n, 'grow'],
    [{ state: 'reopened', notifiedDelta: 100n }, 200n, 'grow'],
    [{ state: 'open', notifiedDelta: 100n }, null, 'resolve'],
    [{ state: 'reopened', notifiedDelta: 100n }, null, 'resolve'],
    [{ state: 'resolved', notifiedDelta: 100n }, null, 'none'],
    [{ state: 'resolved', notifiedDelta: 100n }, 50n, 'reopen'],
    [null, null, 'none'],
  ] as const)('stored %o, detected %s: %s', (stored, delta, kind) => {
    expect(lifecycleAction(stored, delta, 0.25).kind).toBe(kind);
  });
});

describe('routing', () => {
  const fallback = { tracker: 'redmine', project: 'platform' } as const;
  it("takes the Component's annotation, then the owner group's and its parents', then the default", () => {
    expect(
      resolveRoute({ annotations: { 'redmine/project': 'payments', 'flamebill.io/service-names': 'x' } }, [], fallback),
    ).toMatchObject({ tracker: 'redmine', project: 'payments', from: 'component' });
    expect(
      resolveRoute(
        { annotations: { 'github.com/project-slug': 'acme/checkout', 'jira/project-key': 'PAY' } },
        [],
        fallback,
      ),
    ).toMatchObject({ tracker: 'github', project: 'acme/checkout' });
    const groups: Array<{ key: string; annotations: Record<string, string> }> = [
      { key: 'group:default/payments', annotations: {} },
      { key: 'group:default/commerce', annotations: { 'gitlab.com/project-slug': 'acme/commerce' } },
    ];
    expect(resolveRoute({ annotations: {} }, groups, fallback)).toMatchObject({
      tracker: 'gitlab',
      project: 'acme/commerce',
      from: 'group:group:default/commerce',
    });
    expect(resolveRoute(null, [], fallback)).toMatchObject({
      tracker: 'redmine',
      project: 'platform',
      from: 'default',
    });
    expect(resolveRoute({ annotations: { 'redmine/project': '  ' } }, [], undefined)).toBeNull();
  });

  const yaml = (name: string, kind: string, annotations: Record<string, string>, spec: string) =>
    `kind: ${kind}\nmetadata:\n  name: ${name}\n${
      Object.keys(annotations).length
        ? `  annotations:\n${Object.entries(annotations)
            .map(([k, v]) => `    ${k}: ${v}`)
            .join('\n')}\n`
        : ''
    }spec:\n${spec}`;
  const catalogOf = (a: {
    component?: Record<string, string>;
    team?: Record<string, string>;
    org?: Record<string, string>;
  }) => {
    const r = parseCatalog([
      {
        path: 'org.yaml',
        text: [
          yaml('org', 'Group', a.org ?? {}, '  type: organization\n  children: [team]\n'),
          yaml('team', 'Group', a.team ?? {}, '  type: team\n'),
          yaml('shop', 'Component', a.component ?? {}, '  type: service\n  owner: team\n'),
        ].join('---\n'),
      },
    ]);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.problems).toEqual([]);
    return r.catalog;
  };

  it('routes through the catalog: Component, owner Group, parent Groups nearest first, default; with the position', () => {
    const gh = { 'github.com/project-slug': 'acme/org' };
    const rm = { 'redmine/project': 'payments' };
    expect(routeOfService(catalogOf({ org: gh }), 'SHOP', fallback)).toEqual({
      tracker: 'github',
      project: 'acme/org',
      from: 'group:group:default/org',
      annotation: 'github.com/project-slug',
      position: { file: 'org.yaml', line: 3 },
    });
    // The nearest Group wins over its parent, the Component over both.
    expect(routeOfService(catalogOf({ team: rm, org: gh }), 'shop', fallback)).toMatchObject({
      tracker: 'redmine',
      project: 'payments',
      from: 'group:group:default/team',
      position: { file: 'org.yaml', line: 12 },
    });
    expect(
      routeOfService(catalogOf({ component: { 'jira/project-key': 'SHOP' }, team: rm, org: gh }), 'shop', fallback),
    ).toMatchObject({ tracker: 'jira', project: 'SHOP', from: 'component', position: { file: 'org.yaml', line: 20 } });
    expect(routeOfService(catalogOf({}), 'shop', fallback)).toEqual({ ...fallback, from: 'default', annotation: null });
    // A service the catalog does not know goes to the default; with none, nowhere.
    expect(routeOfService(catalogOf({ org: gh }), 'unknown', fallback)).toMatchObject({ from: 'default' });
    expect(routeOfService(catalogOf({ org: gh }), 'unknown', undefined)).toBeNull();
    expect(routeOfService(null, 'shop', fallback)).toMatchObject({ from: 'default' });
  });

  it('keeps Group annotations through the stored revision document', () => {
    const catalog = catalogOf({ team: { 'redmine/project': 'payments' } });
    const stored = JSON.parse(JSON.stringify(toCatalogDocument(catalog))) as CatalogDocument;
    expect(routeOfService(fromCatalogDocument(stored), 'shop', fallback)).toMatchObject({ project: 'payments' });
    // A document stored before Groups kept annotations reads as Groups without any.
    const old = { ...stored, groups: stored.groups.map(({ annotations: _, ...g }) => g) };
    expect(fromCatalogDocument(old).groups.get('group:default/team')!.annotations).toEqual({});
    expect(routeOfService(fromCatalogDocument(old), 'shop', fallback)).toMatchObject({ from: 'default' });
  });
});
