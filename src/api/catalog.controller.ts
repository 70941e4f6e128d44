import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiDoc, FORMAT_QUERY } from './api-doc.decorator';
import { PRICES_EXAMPLE, REVISIONS_EXAMPLE } from './api-examples';
import { format, parseQuery, wholeNumber } from './api-query';
import { CsvTable } from './api-response.interceptor';
import { RequireScope } from './auth/scopes.decorator';
import { CatalogApiService } from './catalog-api.service';

const CATALOG_EXAMPLE = {
  dir: '/etc/flamebill/catalog',
  current: {
    id: '12',
    revision: 'sha256:5f0c…',
    services: [{ service: 'checkout', team: 'payments' }],
    teams: [{ team: 'payments' }],
  },
  lastError: null,
  loadFailure: null,
  unownedServices: [],
};

type RevisionsJson = ReturnType<CatalogApiService['revisions']> extends Promise<infer T> ? T : never;
type PricesJson = ReturnType<CatalogApiService['prices']>;

/** The catalog and the prices: `GET /api/v1/catalog`, `/catalog/revisions`, `POST /catalog/reload` (admin), `GET /prices`. */
@ApiTags('catalog')
@Controller('api/v1')
export class CatalogController {
  constructor(private readonly catalog: CatalogApiService) {}

  @Get('catalog')
  @ApiDoc({
    summary:
      'The catalog revision in force (services, teams), the errors of the latest failed load, services with no owner',
    scope: 'read',
    example: CATALOG_EXAMPLE,
  })
  show(@Query() raw: Record<string, unknown>) {
    parseQuery(raw, {});
    return this.catalog.view();
  }

  @Get('catalog/revisions')
  @ApiDoc({
    summary: 'Stored catalog revisions (good and failed loads), most recent first',
    scope: 'read',
    csv: true,
    queries: [{ name: 'limit', description: '1 to 1000 (default 100)' }, FORMAT_QUERY],
    example: REVISIONS_EXAMPLE,
  })
  @CsvTable((body: RevisionsJson) => ({
    name: 'catalog-revisions',
    columns: ['id', 'revision', 'status', 'source_dir', 'loaded_at', 'last_loaded_at', 'files', 'error_count'],
    rows: body.revisions.map((r) => [
      r.id,
      r.revision,
      r.status,
      r.sourceDir,
      r.loadedAt,
      r.lastLoadedAt,
      r.files.join(' '),
      r.errorCount,
    ]),
  }))
  revisions(@Query() raw: Record<string, unknown>) {
    const q = parseQuery(raw, { limit: wholeNumber(1, 1000), format });
    return this.catalog.revisions(q.limit ?? 100);
  }

  /** Reads the catalog directory now (e.g. after a deploy of the descriptor files) and answers like GET. */
  @Post('catalog/reload')
  @HttpCode(200)
  @RequireScope('admin')
  @ApiDoc({
    summary: 'Read the catalog directory now; answers like GET /api/v1/catalog',
    scope: 'admin',
    example: CATALOG_EXAMPLE,
  })
  reload(@Query() raw: Record<string, unknown>) {
    parseQuery(raw, {});
    return this.catalog.reload();
  }

  @Get('prices')
  @ApiDoc({
    summary:
      'The price schedule of the settings (its id as recorded on the facts), each price with its id and whether it is in force',
    scope: 'read',
    csv: true,
    queries: [FORMAT_QUERY],
    example: PRICES_EXAMPLE,
  })
  @CsvTable((body: PricesJson) => ({
    name: 'prices',
    columns: ['schedule_id', 'currency', 'id', 'cost_per_core_hour', 'effective_from', 'scope', 'in_force'],
    rows: body.prices.map((p) => [
      body.scheduleId,
      body.currency,
      p.id,
      p.costPerCoreHour,
      p.effectiveFrom,
      p.scope.kind === 'default' ? 'default' : `${p.scope.kind}=${p.scope.value}`,
      p.inForce,
    ]),
  }))
  prices(@Query() raw: Record<string, unknown>) {
    parseQuery(raw, { format });
    return this.catalog.prices();
  }
}
