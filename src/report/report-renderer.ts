import { Injectable } from '@nestjs/common';
import juice from 'juice';
import type { OrgReportView, TeamReportView } from '../domain/report';
import { barChartPng } from '../render/bar-chart';
import { TemplateRenderer } from '../render/template-renderer';

/** One rendered report, ready for any recipient: HTML with its CSS inlined, plain text, the chart image. */
export interface RenderedReport {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly attachments: readonly {
    readonly filename: string;
    readonly content: Buffer;
    readonly cid: string;
    readonly contentType: string;
  }[];
}

const CHART_CID = 'trend@flamebill';

/**
 * Renders a report view with the templates of `reports/` (`team.*.hbs`, `org.*.hbs`): the HTML part with its CSS
 * inlined (juice: mail clients drop <style> blocks), the plain-text part, and the 12-week chart as an inline PNG.
 */
@Injectable()
export class ReportRenderer {
  private readonly templates = new TemplateRenderer();

  render(view: TeamReportView | OrgReportView): RenderedReport {
    const context = { ...view, chartCid: CHART_CID };
    const html = juice(this.templates.render(view.kind, 'html', context), {
      removeStyleTags: true,
      preserveMediaQueries: true,
    });
    const text = this.templates.render(view.kind, 'txt', context);
    const chart = barChartPng(view.trend.map((t) => t.cost));
    return {
      subject: view.subject,
      html,
      text,
      attachments: [{ filename: 'trend.png', content: chart, cid: CHART_CID, contentType: 'image/png' }],
    };
  }
}
