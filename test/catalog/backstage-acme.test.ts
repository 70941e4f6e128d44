import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CatalogLoader } from '../../src/catalog/catalog.loader';
import { formatCatalogProblem } from '../../src/domain/catalog';

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
        ...['backstage', 'boxoffice', 'infrastructure', 'team-a', 'team-b', 'team-c', 'team-d'].map((g) => `acme/${g}-group.yaml`),
        ...['artist-lookup-component', 'playback-order-component', 'podcast-api-component', 'queue-proxy-component', 'shuffle-api-component', 'www-artist-component', 'different-namespace', 'invalid-component'].map((c) => `components/${c}.yaml`),
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
    const owners = Object.fromEntries([...catalog.components.values()].map((c) => [c.name, catalog.groups.get(c.owner)!.team]));
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
    expect(catalog.groups.get('group:default/team-a')).toMatchObject({ team: 'team-a', email: 'team-a@example.com', parent: 'group:default/backstage' });
    expect(catalog.groups.get('group:default/backstage')).toMatchObject({ parent: 'group:default/infrastructure', email: 'backstage@example.com', displayName: 'Backstage' });
    expect(catalog.groups.get('user:default/guest')).toMatchObject({ team: 'guest', email: null, parent: null, defined: false });
    // `podcast` is owned by `user:team-b`: the team of that name.
    expect(catalog.systems.get('system:default/podcast')?.owner).toBe('group:default/team-b');
    expect(catalog.components.get('podcast-api')).toMatchObject({ system: 'system:default/podcast', lifecycle: 'experimental' });
  });
});
