import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CatalogController } from './catalog.controller';
import { CatalogRepository } from './catalog.repository';
import { CatalogService } from './catalog.service';

/** The service catalog: loaded from `paths.catalogDir`, stored as revisions, shown at /api/v1/catalog and /readyz. */
@Module({
  controllers: [CatalogController],
  providers: [{ provide: CatalogRepository, useFactory: (db: DataSource) => new CatalogRepository(db), inject: [DataSource] }, CatalogService],
  exports: [CatalogRepository, CatalogService],
})
export class CatalogModule {}
