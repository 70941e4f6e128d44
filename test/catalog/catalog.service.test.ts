import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { CatalogRepository } from '../../src/catalog/catalog.repository';
import { CatalogService } from '../../src/catalog/catalog.service';
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

/** Breaks the owner of `checkout` (an unknown group) in components.yaml; returns the line it is on. */
async function breakOwner(): Promise<number> {
  const file = path.join(dir, 'components.yaml');
  const text = await readFile(file, 'utf8');
  const broken = text.replace('owner: group:default/payments', 'owner: group:default/no-such-team');
  await writeFile(file, broken);
  return broken.split('\n').findIndex((l) => l.includes('no-such-team')) + 1;
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
    const services = (await db.query(`SELECT service, team FROM catalog_current_services ORDER BY service`)) as Array<{ service: string; team: string }>;
    expect(services).toContainEqual({ service: 'checkout', team: 'payments' });
    expect(services.length).toBe(first.current!.catalog.components.size);
    expect(((await db.query(`SELECT count(*)::int AS n FROM catalog_current_teams`)) as Array<{ n: number }>)[0]!.n).toBe(first.current!.catalog.groups.size);
  });

  it('a catalog with errors leaves the last good revision in force, stored as an error revision with file, line and field', async () => {
    const { catalog, registry } = service();
    await catalog.onApplicationBootstrap();
    try {
      const good = catalog.current().current!;
      expect(await readiness(registry)).toMatchObject({ status: 'up', revision: good.revision });

      const line = await breakOwner();
      const state = await catalog.reload();
      expect(state.current?.revision).toBe(good.revision);
      expect(state.lastError?.status).toBe('error');
      expect(state.lastError?.errors).toContainEqual(
        expect.objectContaining({ file: path.join(dir, 'components.yaml'), line, field: 'spec.owner' }),
      );
      expect((await new CatalogRepository(db).currentGood())?.revision).toBe(good.revision);
      const ready = await readiness(registry);
      expect(ready).toMatchObject({ status: 'degraded', revision: good.revision });
      expect(String((ready.errors as string[])[0])).toContain(`components.yaml:${line}: spec.owner:`);

      // Fixing the file brings the good revision back; the error is no longer shown.
      await cp(path.join(CATALOG_DIR, 'components.yaml'), path.join(dir, 'components.yaml'));
      const fixed = await catalog.reload();
      expect(fixed.current?.revision).toBe(good.revision);
      expect(fixed.lastError).toBeNull();
      expect(await readiness(registry)).toMatchObject({ status: 'up' });
      expect(await db.query(`SELECT status, count(*)::int AS n FROM catalog_revisions GROUP BY status ORDER BY status`)).toEqual([
        { status: 'error', n: 1 },
        { status: 'ok', n: 1 },
      ]);
    } finally {
      catalog.onModuleDestroy();
    }
  });

  it('is down when the catalog has errors and no good revision was ever loaded; degraded without a catalog directory', async () => {
    await breakOwner();
    const broken = service();
    await broken.catalog.onApplicationBootstrap();
    try {
      expect(broken.catalog.current().current).toBeNull();
      expect(await readiness(broken.registry)).toMatchObject({ status: 'down', message: 'the catalog has errors and no good revision was ever loaded' });
    } finally {
      broken.catalog.onModuleDestroy();
    }

    const missing = service(path.join(dir, 'does-not-exist'));
    await missing.catalog.onApplicationBootstrap();
    try {
      expect(missing.catalog.current().lastError?.errors[0]).toMatchObject({ field: '(directory)', line: 0 });
      expect(await readiness(missing.registry)).toMatchObject({ status: 'degraded' });
    } finally {
      missing.catalog.onModuleDestroy();
    }
  });
});
