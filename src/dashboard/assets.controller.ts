import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import path from 'node:path';
import { templatesDir } from '../render/template-renderer';

/** uPlot's browser build and stylesheet, from the installed package: served by the app, never from a CDN. */
const VENDOR: Readonly<Record<string, string>> = {
  'uplot.js': 'uplot/dist/uPlot.iife.min.js',
  'uplot.css': 'uplot/dist/uPlot.min.css',
};

/**
 * The pages' scripts and styles (`reports/assets/`) and vendored libraries, from this app only: pages load nothing
 * from the internet, and work behind a proxy that allows no other origin. Open to every reader (they hold no data).
 */
@ApiExcludeController()
@Controller('assets')
export class AssetsController {
  private readonly root = path.join(templatesDir(), 'assets');

  @Get('vendor/:file')
  vendor(@Param('file') file: string, @Res() res: Response): void {
    const module = VENDOR[file];
    if (!module) throw new NotFoundException(`no vendored asset ${file}`);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.sendFile(require.resolve(module));
  }

  @Get(':file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    if (!/^[a-z0-9-]+\.(js|css|svg)$/.test(file)) throw new NotFoundException(`no asset ${file}`);
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.sendFile(file, { root: this.root }, (error) => {
      if (error && !res.headersSent) res.status(404).type('text/plain').send(`no asset ${file}`);
    });
  }
}
