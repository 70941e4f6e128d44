import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { TemplateRenderer } from '../render/template-renderer';
import type { Reader } from '../api/auth/reader-session.service';

/**
 * Prints the dashboard's views (`reports/dashboard/*.html.hbs`) with the email's renderer: the same helpers and
 * partials, and the same HTML escaping of every value (names come from profiles and the catalog).
 */
@Injectable()
export class DashboardPages {
  private readonly renderer = new TemplateRenderer();

  constructor(@InjectSettings() private readonly settings: Settings) {}

  render(name: string, view: object, reader: Reader | null = null): string {
    return this.renderer.render(`dashboard/${name}`, 'html', {
      currency: this.settings.currency,
      ...view,
      auth: this.settings.dashboard.auth,
      reader: reader?.name ?? null,
      canSignOut: reader?.via === 'apikey',
    });
  }

  send(res: Response, name: string, view: object, status = 200): void {
    const reader = (res.locals as { reader?: Reader }).reader ?? null;
    res
      .status(status)
      .type('text/html; charset=utf-8')
      .send(this.render(name, view, reader));
  }
}
