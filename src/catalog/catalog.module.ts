import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CatalogRepository } from './catalog.repository';
import { CatalogService } from './catalog.service';

/** The service catalog: loaded from `paths.catalogDir`, stored as revisions, shown at /readyz and by the finance API (src/api/catalog.controller.ts). */
@Module({
  providers: [
    { provide: CatalogRepository, useFactory: (db: DataSource) => new CatalogRepository(db), inject: [DataSource] },
    CatalogService,
  ],
  exports: [CatalogRepository, CatalogService],
})
export class CatalogModule {}
