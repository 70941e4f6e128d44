import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { BackstageCatalogReader } from '../../src/catalog/backstage-catalog.reader';
import { backstageCatalogSettingsSchema } from '../../src/config/catalog-settings';
import { CatalogLoader } from '../../src/catalog/catalog.loader';
import { formatCatalogProblem, isValidEntityName, type Catalog } from '../../src/domain/catalog';
import type { LoopbackServer } from '../sources/servers/loopback-server';
import { startBackstageCatalogServer } from './servers/backstage-catalog.server';

/** Backstage's own example organisation (packages/catalog-model/examples), as copied in test/fixtures/backstage-acme. */
const ACME = path.join(__dirname, '..', 'fixtures', 'backstage-acme');

describe("Backstage's example catalog (acme) loads as a directory", () => {
  it('follows the Locations into the sub-folders, owns every Component by its owner, and skips only the invalid example', async () => {
    const loaded = await new CatalogLoader().load(ACME);
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const { catalog } = loaded;
    // Every file the Locations name was read: acme/org.yaml and, through its own Location, the group files.
    expect(loaded.files.map((f) => path.relative(ACME, f)).sort()).toEqual(
      [
        'acme-corp.yaml',
        'catalog-info.yaml',
        'acme/org.yaml',
        ...['backstage', 'boxoffice', 'infrastructure', 'team-a', 'team-b', 'team-c', 'team-d'].map(
          (g) => `acme/${g}-group.yaml`,
        ),
        ...[
          'artist-lookup-component',
          'playback-order-component',
          'podcast-api-component',
          'queue-proxy-component',
          'shuffle-api-component',
          'www-artist-component',
          'different-namespace',
          'invalid-component',
        ].map((c) => `components/${c}.yaml`),
        'systems/artist-engagement-portal-system.yaml',
        'systems/audio-playback-system.yaml',
        'systems/podcast-system.yaml',
        'domains/playback-domain.yaml',
        'resources/artists-db-resource.yaml',
        'apis/spotify-api.yaml',
      ].sort(),
    );
    // The invalid example (a name with a space) is reported with file, line and field, and nothing else is.
    expect(loaded.problems.map(formatCatalogProblem)).toEqual([
      `${path.join(ACME, 'components/invalid-component.yaml')}:4: metadata.name: invalid name "invalid component": use 1-63 letters or digits separated by single - _ or .`,
    ]);
    const owners = Object.fromEntries(
      [...catalog.components.values()].map((c) => [c.name, catalog.groups.get(c.owner)!.team]),
    );
    expect(owners).toEqual({
      'artist-lookup': 'team-a',
      'playback-order': 'guest', // user:guest: a User, owner by its name
      'podcast-api': 'team-b',
      'queue-proxy': 'team-b',
      'shuffle-api': 'guest',
      'www-artist': 'team-a',
      'different-namespace': 'team-a', // owner default/team-a from the `alternative` namespace
    });
    // A Group of the files adds its email and parent; a User owner has neither.
    expect(catalog.groups.get('group:default/team-a')).toMatchObject({
      team: 'team-a',
      email: 'team-a@example.com',
      parent: 'group:default/backstage',
    });
    expect(catalog.groups.get('group:default/backstage')).toMatchObject({
      parent: 'group:default/infrastructure',
      email: 'backstage@example.com',
      displayName: 'Backstage',
    });
    expect(catalog.groups.get('user:default/guest')).toMatchObject({
      team: 'guest',
      email: null,
      parent: null,
      defined: false,
    });
    // `podcast` is owned by `user:team-b`: the team of that name.
    expect(catalog.systems.get('system:default/podcast')?.owner).toBe('group:default/team-b');
    expect(catalog.components.get('podcast-api')).toMatchObject({
      system: 'system:default/podcast',
      lifecycle: 'experimental',
    });
  });
});

/** What attribution uses of a catalog, without file positions (which differ between files and API entities). */
function essence(catalog: Catalog): unknown {
  const team = (key: string | null): string | null => (key === null ? null : catalog.groups.get(key)!.team);
  return {
    components: [...catalog.components.values()]
      .map((c) => ({ name: c.name, owner: team(c.owner), system: c.system, lifecycle: c.lifecycle }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    teams: [...catalog.groups.values()]
      .map((g) => ({ team: g.team, email: g.email, parent: team(g.parent), displayName: g.displayName }))
      .sort((a, b) => a.team.localeCompare(b.team)),
    systems: [...catalog.systems.values()]
      .map((x) => ({ name: x.name, owner: team(x.owner) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** Every entity of the fixture files, as a Backstage that ingested them serves them (the invalid one rejected). */
function acmeEntities(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.yaml'))
        for (const doc of parseAllDocuments(readFileSync(full, 'utf8')))
          out.push(doc.toJS() as Record<string, unknown>);
    }
  };
  walk(ACME);
  return out.filter((e) => isValidEntityName(String((e['metadata'] as Record<string, unknown>)['name'])));
}

describe('the same catalog from a live Backstage (GET /api/catalog/entities/by-query)', () => {
  let server: LoopbackServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('pages through every Component, Group and System with the cursor and loads what the directory loads', async () => {
    server = await startBackstageCatalogServer({ entities: acmeEntities(), token: 's3cret' });
    const reader = new BackstageCatalogReader(
      backstageCatalogSettingsSchema.parse({ url: server.url, tokenEnv: 'BACKSTAGE_TOKEN', pageSize: 4 }),
      { BACKSTAGE_TOKEN: 's3cret' },
    );
    const fromApi = await reader.load();
    const fromDir = await new CatalogLoader().load(ACME);
    expect(fromApi.ok && fromDir.ok).toBe(true);
    if (!fromApi.ok || !fromDir.ok) return;
    expect(fromApi.problems).toEqual([]);
    expect(essence(fromApi.catalog)).toEqual(essence(fromDir.catalog));
    expect(fromApi.catalog.components.size).toBe(7);
    // 7 components + 8 groups + 3 systems = 18 entities in pages of 4: 5 requests, the first with the filters.
    expect(server.requests).toHaveLength(5);
    expect(server.requests[0]!.query.getAll('filter')).toEqual(['kind=component', 'kind=group', 'kind=system']);
    expect(server.requests.slice(1).every((r) => r.query.get('cursor') !== null)).toBe(true);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer s3cret');
    // The same entities make the same revision.
    expect((await reader.load()).revision).toBe(fromApi.revision);
  });

  it('fails with the status and Backstage error body when the token is wrong', async () => {
    server = await startBackstageCatalogServer({ entities: acmeEntities(), token: 's3cret' });
    const reader = new BackstageCatalogReader(
      backstageCatalogSettingsSchema.parse({ url: server.url, tokenEnv: 'BACKSTAGE_TOKEN' }),
      { BACKSTAGE_TOKEN: 'nope' },
    );
    await expect(reader.load()).rejects.toThrow(/answered HTTP 401: .*AuthenticationError/);
  });
});
