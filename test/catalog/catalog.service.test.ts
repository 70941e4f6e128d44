import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { CatalogRepository } from '../../src/catalog/catalog.repository';
import { CatalogService } from '../../src/catalog/catalog.service';
import { backstageCatalogSettingsSchema } from '../../src/config/catalog-settings';
import { startBackstageCatalogServer } from './servers/backstage-catalog.server';
import { parseAllDocuments, type Document } from 'yaml';
import type { Settings } from '../../src/config/settings.schema';
import { ReadinessRegistry } from '../../src/health/readiness.registry';
import { CATALOG_DIR } from '../cost/support';
import { testDataSource, truncateTables } from '../support/database';

let db: DataSource;
let dir: string;

beforeAll(async () => {
  db = await testDataSource();
});

beforeEach(async () => {
  await truncateTables(db);
  dir = await mkdtemp(path.join(os.tmpdir(), 'flamebill-catalog-'));
  await cp(CATALOG_DIR, dir, { recursive: true });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function service(catalogDir = dir): { catalog: CatalogService; registry: ReadinessRegistry } {
  const registry = new ReadinessRegistry();
  const catalog = new CatalogService(new CatalogRepository(db), registry, { paths: { catalogDir } } as Settings);
  return { catalog, registry };
}

async function readiness(registry: ReadinessRegistry): Promise<Record<string, unknown>> {
  const [entry] = registry.entries();
  return (await entry![1]()) as Record<string, unknown>;
}

/** Breaks the owner of `checkout` (a malformed reference) in components.yaml; returns the line it is on. */
async function breakOwner(): Promise<number> {
  const file = path.join(dir, 'components.yaml');
  const text = await readFile(file, 'utf8');
  const broken = text.replace('owner: group:default/payments', 'owner: "group:default/no/such-team"');
  await writeFile(file, broken);
  return broken.split('\n').findIndex((l) => l.includes('no/such-team')) + 1;
}

describe('CatalogService', () => {
  it('stores each distinct load as a revision; re-loading unchanged files adds none', async () => {
    const { catalog } = service();
    const first = await catalog.reload();
    expect(first.current?.status).toBe('ok');
    expect(first.current?.catalog.components.get('checkout')?.owner).toBe('group:default/payments');
    await catalog.reload();
    await service().catalog.reload(); // another replica, same files
    expect(await db.query(`SELECT count(*)::int AS n FROM catalog_revisions`)).toEqual([{ n: 1 }]);
    const services = (await db.query(`SELECT service, team FROM catalog_current_services ORDER BY service`)) as Array<{
      service: string;
      team: string;
    }>;
    expect(services).toContainEqual({ service: 'checkout', team: 'payments' });
    expect(services.length).toBe(first.current!.catalog.components.size);
    expect(
      ((await db.query(`SELECT count(*)::int AS n FROM catalog_current_teams`)) as Array<{ n: number }>)[0]!.n,
    ).toBe(first.current!.catalog.groups.size);
  });

  it('a bad entity is reported with file, line and field and skipped; the rest loads as a revision that records it', async () => {
    const { catalog, registry } = service();
    await catalog.onApplicationBootstrap();
    try {
      const good = catalog.current().current!;
      expect(good.errors).toEqual([]);
      const line = await breakOwner();
      const state = await catalog.reload();
      expect(state.current?.revision).not.toBe(good.revision);
      expect(state.current?.catalog.components.has('checkout')).toBe(false);
      expect(state.current?.catalog.components.size).toBe(good.catalog.components.size - 1);
      expect(state.current?.errors).toEqual([
        expect.objectContaining({
          file: path.join(dir, 'components.yaml'),
          line,
          field: 'spec.owner',
          message: expect.stringMatching(/malformed entity reference/),
        }),
      ]);
      expect(state.lastError).toBeNull();
      expect(await readiness(registry)).toMatchObject({ status: 'up', revision: state.current!.revision });
      const [stored] = (await db.query(`SELECT errors FROM catalog_revisions WHERE revision = $1`, [
        state.current!.revision,
      ])) as Array<{ errors: Array<{ field: string }> }>;
      expect(stored!.errors.map((e) => e.field)).toEqual(['spec.owner']);
    } finally {
      catalog.onModuleDestroy();
    }
  });

  it('a catalog where nothing loads leaves the last good revision in force, stored as an error revision', async () => {
    const { catalog, registry } = service();
    await catalog.onApplicationBootstrap();
    try {
      const good = catalog.current().current!;
      const emptyDir = await mkdtemp(path.join(os.tmpdir(), 'flamebill-catalog-bad-'));
      await writeFile(path.join(emptyDir, 'broken.yaml'), 'kind: Component\nmetadata:\n  name: [unclosed\n');
      const broken = service(emptyDir);
      await broken.catalog.onApplicationBootstrap();
      try {
        // Another directory's first load: nothing good ever loaded from it, and the error is stored.
        expect(broken.catalog.current().lastError?.errors[0]).toMatchObject({
          file: path.join(emptyDir, 'broken.yaml'),
          field: '(yaml)',
        });
      } finally {
        broken.catalog.onModuleDestroy();
        await rm(emptyDir, { recursive: true, force: true });
      }
      expect((await new CatalogRepository(db).currentGood())?.revision).toBe(good.revision);
      expect(await readiness(registry)).toMatchObject({ status: 'up' });
    } finally {
      catalog.onModuleDestroy();
    }

    const missing = service(path.join(dir, 'does-not-exist'));
    await missing.catalog.onApplicationBootstrap();
    try {
      expect(missing.catalog.current().lastError?.errors[0]).toMatchObject({ field: '(directory)', line: 0 });
    } finally {
      missing.catalog.onModuleDestroy();
    }
  });

  it('reads the catalog from a live Backstage when catalog.backstage is set, and stores it as revisions', async () => {
    const entities: Record<string, unknown>[] = [];
    for (const file of ['groups.yaml', 'components.yaml', 'systems.yaml']) {
      for (const doc of parseAllDocuments(await readFile(path.join(CATALOG_DIR, file), 'utf8')) as Document[]) {
        const body = doc.toJS() as Record<string, unknown> | null;
        if (body) entities.push(body);
      }
    }
    const server = await startBackstageCatalogServer({ entities, token: 'tok' });
    process.env.FLAMEBILL_TEST_BACKSTAGE_TOKEN = 'tok';
    const registry = new ReadinessRegistry();
    const settings = {
      paths: { catalogDir: dir },
      catalog: {
        backstage: backstageCatalogSettingsSchema.parse({
          url: server.url,
          tokenEnv: 'FLAMEBILL_TEST_BACKSTAGE_TOKEN',
          pageSize: 7,
        }),
      },
    } as unknown as Settings;
    const catalog = new CatalogService(new CatalogRepository(db), registry, settings);
    try {
      const state = await catalog.reload();
      const fromDir = await service().catalog.reload();
      expect(state.current?.sourceDir).toBe(`${server.url}/api/catalog`);
      expect(state.current?.catalog.components.get('checkout')?.owner).toBe('group:default/payments');
      expect([...state.current!.catalog.components.keys()].sort()).toEqual(
        [...fromDir.current!.catalog.components.keys()].sort(),
      );
      await catalog.reload();
      expect(
        (
          (await db.query(`SELECT count(*)::int AS n FROM catalog_revisions WHERE source_dir = $1`, [
            `${server.url}/api/catalog`,
          ])) as Array<{ n: number }>
        )[0]!.n,
      ).toBe(1);
    } finally {
      catalog.onModuleDestroy();
      delete process.env.FLAMEBILL_TEST_BACKSTAGE_TOKEN;
      await server.close();
    }
  });
});
