import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  catalogRevisionId,
  formatCatalogProblem,
  parseCatalog,
  resolveService,
  type Catalog,
  type CatalogFile,
} from '../../../src/domain/catalog';

const CATALOG_DIR = join(__dirname, '../../../catalog');

function exampleFiles(): CatalogFile[] {
  return readdirSync(CATALOG_DIR)
    .filter((n) => n.endsWith('.yaml'))
    .sort()
    .map((n) => ({ path: `catalog/${n}`, text: readFileSync(join(CATALOG_DIR, n), 'utf8') }));
}

function parseOk(files: CatalogFile[]): Catalog {
  const r = parseCatalog(files);
  if (!r.ok) throw new Error(r.problems.map(formatCatalogProblem).join('\n'));
  return r.catalog;
}

function problems(text: string): string[] {
  const r = parseCatalog([{ path: 'c.yaml', text }]);
  return r.problems.map(formatCatalogProblem);
}

const group = (name: string, extra = '') => `kind: Group\nmetadata:\n  name: ${name}\nspec:\n  type: team${extra}\n`;
const component = (name: string, owner: string, extra = '') =>
  `kind: Component\nmetadata:\n  name: ${name}${extra}\nspec:\n  owner: ${owner}\n`;

describe('the example catalog', () => {
  const catalog = parseOk(exampleFiles());

  it('has a dozen services, five teams under one org and three systems', () => {
    expect(catalog.components.size).toBe(12);
    const groups = [...catalog.groups.values()];
    expect(
      groups
        .filter((g) => g.parent === 'group:default/acme')
        .map((g) => g.team)
        .sort(),
    ).toEqual(['data-platform', 'developer-productivity', 'observability', 'payments', 'storefront']);
    expect(catalog.groups.get('group:default/acme')?.parent).toBeNull();
    expect(catalog.groups.get('group:default/payments')?.email).toBe('payments-team@acme.example');
    expect([...catalog.systems.values()].map((s) => s.name).sort()).toEqual(['build-tooling', 'commerce', 'streaming']);
  });

  it('reads owner references in every Backstage form, case-insensitively', () => {
    expect(catalog.components.get('checkout')?.owner).toBe('group:default/payments'); // group:default/payments
    expect(catalog.components.get('ledger')?.owner).toBe('group:default/payments'); // payments
    expect(catalog.components.get('pyroscope-ingester')?.owner).toBe('group:default/observability'); // group:observability
    const upper = parseOk([
      { path: 'x.yaml', text: `${group('Payments')}---\n${component('api', 'GROUP:Default/PAYMENTS')}` },
    ]);
    expect(upper.components.get('api')?.owner).toBe('group:default/payments');
  });

  it('resolves the service names of the real profiles: name, alias, pattern, else unowned', () => {
    const r = (name: string) => {
      const res = resolveService(catalog, name);
      return res.owned ? `${res.service.name}/${res.team.team}/${res.match}` : 'unowned';
    };
    expect(r('go-compiler')).toBe('go-compiler/developer-productivity/name');
    expect(r('CHECKOUT')).toBe('checkout/payments/name');
    expect(r('devirt')).toBe('checkout/payments/alias');
    expect(r('checkout-canary')).toBe('checkout/payments/pattern');
    expect(r('cortex-dev-01__kafka-0__cpu__3')).toBe('kafka/data-platform/pattern');
    expect(r('dotnet-pprof-211')).toBe('billing-dotnet/payments/pattern');
    expect(r('normal-cpu')).toBe('parca-agent/observability/alias');
    expect(r('inline_hot')).toBe('unowned');
  });

  it('gets the same revision id for the same files in any order, another for any change', () => {
    const files = exampleFiles();
    expect(catalogRevisionId([...files].reverse())).toBe(catalogRevisionId(files));
    const changed = files.map((f, i) => (i === 0 ? { ...f, text: `${f.text}\n# edited` } : f));
    expect(catalogRevisionId(changed)).not.toBe(catalogRevisionId(files));
  });
});

describe('pattern precedence', () => {
  const catalog = parseOk([
    {
      path: 'p.yaml',
      text: [
        group('t'),
        component('a', 't', '\n  annotations:\n    flamebill.io/service-names: "shop-*"'),
        component('b', 't', '\n  annotations:\n    flamebill.io/service-names: "shop-eu-*"'),
        component('c', 't', '\n  annotations:\n    flamebill.io/service-names: "*-eu-*, exact-one"'),
        component('shop-eu-api', 't'),
      ].join('---\n'),
    },
  ]);

  it('prefers the exact name, then the alias, then the most literal pattern, then the smaller component name', () => {
    const name = (s: string) => {
      const res = resolveService(catalog, s);
      return res.owned ? res.service.name : null;
    };
    expect(name('shop-eu-api')).toBe('shop-eu-api');
    expect(name('EXACT-ONE')).toBe('c');
    expect(name('shop-eu-web')).toBe('b'); // "shop-eu-*" (8 literal chars) beats "shop-*" (5) and "*-eu-*" (4)
    expect(name('shop-us-web')).toBe('a');
    expect(name('db-eu-1')).toBe('c');
    expect(name('nothing')).toBeNull();
  });
});

describe('catalog problems', () => {
  it('reports bad YAML with its line and goes on with the other files', () => {
    const r = parseCatalog([
      { path: 'bad.yaml', text: `${group('t')}---\nkind: Component\nmetadata:\n  name: [unclosed\n` },
      { path: 'good.yaml', text: component('svc', 'nobody') },
    ]);
    // The broken document is reported and skipped; the rest loads, its owner known only by reference (Backstage
    // owners often come from an org provider).
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.problems.map(formatCatalogProblem)).toEqual([
      'bad.yaml:10: (yaml): Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
    expect(r.catalog.groups.get(r.catalog.components.get('svc')!.owner)).toMatchObject({
      team: 'nobody',
      email: null,
      parent: null,
      defined: false,
    });
  });

  it('reports every problem at once with file, line and field', () => {
    const text = [
      group('org', '\n  children: [team-a, ghost]'), // lines 1-6
      group('team-a', '\n  parent: org'), // lines 8-13
      group('team-a'), // lines 15-19: duplicate
      `kind: Component\nmetadata:\n  name: no-owner\nspec:\n  type: service\n`, // lines 21-25
      component('orphan', 'group:default/missing'), // lines 27-31
      `kind: Component\nmetadata:\n  name: sys-user\nspec:\n  system: nowhere\n  owner: team-a\n`, // lines 33-38
    ].join('---\n');
    expect(problems(text)).toEqual([
      'c.yaml:6: spec.children[1]: unknown child group "ghost" (no group:default/ghost in the catalog)',
      'c.yaml:17: metadata.name: duplicate Group "team-a" (first defined at c.yaml:10)',
      'c.yaml:24: spec.owner: missing spec.owner', // no owner key: the line of its parent, spec
      'c.yaml:37: spec.system: unknown system "nowhere" (no system:default/nowhere in the catalog)',
    ]);
  });

  it('reports a missing spec.owner at the spec line when spec exists', () => {
    expect(problems(`${group('t')}---\nkind: Component\nmetadata:\n  name: svc\nspec:\n  type: service\n`)).toEqual([
      'c.yaml:10: spec.owner: missing spec.owner',
    ]);
  });

  it('reports an unknown parent and a cycle in the group tree', () => {
    expect(
      problems(
        [
          group('a', '\n  parent: b'),
          group('b', '\n  parent: c'),
          group('c', '\n  parent: a'),
          group('d', '\n  parent: nope'),
        ].join('---\n'),
      ),
    ).toEqual([
      'c.yaml:6: spec.parent: cycle in the group tree: group:default/a -> group:default/b -> group:default/c -> group:default/a',
      'c.yaml:27: spec.parent: unknown parent group "nope" (no group:default/nope in the catalog)',
    ]);
  });

  it('reports a child whose own parent says otherwise', () => {
    expect(problems([group('a', '\n  children: [c]'), group('b'), group('c', '\n  parent: b')].join('---\n'))).toEqual([
      'c.yaml:6: spec.children[0]: "group:default/c" already has parent "group:default/b"',
    ]);
  });

  it('reports ambiguous aliases and patterns, and duplicate service names across namespaces', () => {
    const ann = (names: string) => `\n  annotations:\n    flamebill.io/service-names: "${names}"`;
    expect(
      problems(
        [
          group('t'),
          component('a', 't', ann('legacy-a, web-*')),
          component('b', 't', ann('legacy-a, a, WEB-*')),
          component('a', 't', '\n  namespace: other'),
        ].join('---\n'),
      ),
    ).toEqual([
      'c.yaml:19: metadata.annotations.flamebill.io/service-names: ambiguous alias "legacy-a": also an alias of Component "a"',
      'c.yaml:19: metadata.annotations.flamebill.io/service-names: alias "a" is the name of Component "a"',
      'c.yaml:19: metadata.annotations.flamebill.io/service-names: ambiguous alias pattern "WEB-*": also a pattern of Component "a"',
      'c.yaml:25: metadata.name: duplicate service name "a" (also Component in c.yaml:9); service names must be unique across namespaces',
    ]);
  });

  it('rejects names Backstage would reject and documents that are not mappings', () => {
    expect(problems(`- just\n- a list\n---\n${group('bad name!')}---\n{ metadata: { name: x } }\n`)).toEqual([
      'c.yaml:1: (document): an entity must be a YAML mapping',
      'c.yaml:6: metadata.name: invalid name "bad name!": use 1-63 letters or digits separated by single - _ or .',
      'c.yaml:10: kind: missing kind',
    ]);
  });

  it('does not mutate the files it is given', () => {
    const files = Object.freeze(exampleFiles().map((f) => Object.freeze({ ...f })));
    expect(parseCatalog(files).ok).toBe(true);
  });
});
