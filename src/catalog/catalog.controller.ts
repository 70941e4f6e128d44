import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { CatalogService, type CatalogView } from './catalog.service';

/** `GET /api/v1/catalog`: the revision in force, the errors of the latest failed load, unowned services. */
@Controller('api/v1/catalog')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get()
  show(): Promise<CatalogView> {
    return this.catalog.view();
  }

  /** Reads the catalog directory now (e.g. after a deploy of the descriptor files) and answers like GET. */
  @Post('reload')
  @HttpCode(200)
  async reload(): Promise<CatalogView> {
    await this.catalog.reload();
    return this.catalog.view();
  }
}
