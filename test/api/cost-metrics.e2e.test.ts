import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CostMetricsService } from '../../src/api/cost-metrics.service';
import { CostQueryService } from '../../src/cost/cost-query.service';
import { attributeDemo, startApiApp, type ApiTestApp } from './support';

let app: ApiTestApp;
let read: string;

beforeAll(async () => {
  app = await startApiApp();
  await attributeDemo(app);
  read = await app.key('read');
});
afterAll(() => app?.close());

/** Samples of one metric in Prometheus text: labels (as written) → value. */
function samples(text: string, metric: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`, 'gm'))) out.set(m[1]!, Number(m[2]));
  return out;
}

describe('cost gauges on /metrics', () => {
  it('show the last complete hour and day per service and per team, as /costs does', async () => {
    // As seen at 12:10 on 2026-11-21: the hour 11:00-12:00 and the day 2026-11-20.
    await app.app.get(CostMetricsService).refresh(Date.parse('2026-11-21T12:10:00Z'));
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    const services = samples(text, 'flamebill_cost_microdollars');
    const teams = samples(text, 'flamebill_team_cost_microdollars');
    for (const [period, q] of [
      ['hour', 'from=2026-11-21T11:00:00Z&to=2026-11-21T12:00:00Z'],
      ['day', 'from=2026-11-20&to=2026-11-21'],
    ] as const) {
      const bySvc = (await app.get(`/api/v1/costs?${q}&groupBy=service`, read)).body;
      expect(bySvc.rows.length).toBeGreaterThan(0);
      for (const r of bySvc.rows)
        expect(services.get(`period="${period}",team="${r.detail}",service="${r.key}"`), `${period} ${r.key}`).toBe(
          Number(r.cost.microdollars),
        );
      const byTeam = (await app.get(`/api/v1/costs?${q}&groupBy=team`, read)).body;
      for (const r of byTeam.rows)
        expect(teams.get(`period="${period}",team="${r.key}"`), `${period} ${r.key}`).toBe(Number(r.cost.microdollars));
      expect([...services.keys()].filter((k) => k.startsWith(`period="${period}"`))).toHaveLength(bySvc.rows.length);
    }
    expect(teams.get('period="day",team="__unowned__"')).toBeGreaterThan(0);
  });

  it('a database that cannot answer leaves the cost series empty; the scrape still answers', async () => {
    const service = app.app.get(CostMetricsService);
    const costs = app.app.get(CostQueryService);
    const rows = costs.rows.bind(costs);
    costs.rows = () => Promise.reject(new Error('connection terminated'));
    try {
      await expect(service.refresh(Date.parse('2026-11-21T12:10:00Z'))).rejects.toThrow('connection terminated');
      const response = await fetch(`${app.baseUrl}/metrics`);
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(text).toMatch(/^process_resident_memory_bytes \d/m);
      expect(samples(text, 'flamebill_cost_microdollars').size).toBe(0);
    } finally {
      costs.rows = rows;
    }
  });
});

describe('deploy/grafana/flamebill-cost.json', () => {
  const FUNCTIONS = new Set([
    'sum',
    'topk',
    'sort_desc',
    'rate',
    'histogram_quantile',
    'label_values',
    'by',
    'without',
    'avg',
    'max',
    'min',
    'count',
  ]);

  /** Metric names of a PromQL expression: identifiers outside label matchers, grouping clauses and ranges, not functions. */
  function metricsOf(expr: string): string[] {
    const bare = expr
      .replace(/\{[^}]*\}/g, ' ')
      .replace(/\b(by|without)\s*\([^)]*\)/g, ' ')
      .replace(/\[[^\]]*\]/g, ' ')
      .replace(/"[^"]*"/g, ' ')
      .replace(/\blabel_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*\w+\s*\)/g, '$1');
    const tokens = [...bare.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)]
      .filter((m) => m[2] === undefined)
      .map((m) => m[1]!);
    return tokens.filter((t) => !FUNCTIONS.has(t) && !/^e\d+$/.test(t));
  }

  it('parses, and references only metrics the application exports', async () => {
    const dashboard = JSON.parse(
      readFileSync(path.join(__dirname, '../../deploy/grafana/flamebill-cost.json'), 'utf8'),
    ) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
      templating: { list: Array<{ query: string }> };
    };
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
      ...dashboard.templating.list.map((v) => v.query),
    ];
    const names = new Set(exprs.flatMap(metricsOf));
    expect(names).toEqual(
      new Set([
        'flamebill_team_cost_microdollars',
        'flamebill_cost_microdollars',
        'http_request_duration_seconds_bucket',
      ]),
    );
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    const exported = new Set(
      [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap((m) =>
        m[2] === 'histogram' ? [`${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`] : [m[1]!],
      ),
    );
    for (const name of names) expect(exported.has(name), name).toBe(true);
    expect(metricsOf('sum(rate(no_such_metric_total[5m]))')).toEqual(['no_such_metric_total']);
  });
});
