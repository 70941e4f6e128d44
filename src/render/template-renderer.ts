import Handlebars from 'handlebars';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { formatMoney } from '../domain/cost';

/** The `reports/` folder of the installed package (two levels above `src/render`, three above `dist/src/render`). */
export function templatesDir(): string {
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(__dirname, up, 'reports');
    if (existsSync(path.join(candidate, 'partials'))) return candidate;
  }
  throw new Error('no reports/ folder with partials next to the package');
}

/**
 * Handlebars with flamebill's helpers and the shared partials of `reports/partials`, for the emails now and the
 * dashboard pages later. Two environments: HTML escapes every value (names come from profiles and the catalog, so
 * `<script>` must stay text), plain text prints values as they are (there is no markup to break out of). Templates
 * hold no logic beyond loops, conditions and these helpers; money is formatted here, never computed.
 */
export class TemplateRenderer {
  private readonly html = Handlebars.create();
  private readonly text = Handlebars.create();
  private readonly compiled = new Map<string, Handlebars.TemplateDelegate>();

  constructor(private readonly dir: string = templatesDir()) {
    for (const env of [this.html, this.text]) {
      registerHelpers(env);
      for (const file of readdirSync(path.join(dir, 'partials'))) {
        if (file.endsWith('.hbs'))
          env.registerPartial(file.slice(0, -'.hbs'.length), readFileSync(path.join(dir, 'partials', file), 'utf8'));
      }
    }
  }

  /** Renders `reports/<name>.html.hbs` (escaped) or `reports/<name>.txt.hbs` (plain) with `view`. */
  render(name: string, kind: 'html' | 'txt', view: object): string {
    const key = `${name}.${kind}`;
    let template = this.compiled.get(key);
    if (!template) {
      const source = readFileSync(path.join(this.dir, `${name}.${kind}.hbs`), 'utf8');
      template =
        kind === 'html'
          ? this.html.compile(source, { strict: true })
          : this.text.compile(source, { strict: true, noEscape: true });
      this.compiled.set(key, template);
    }
    return template(view);
  }
}

function registerHelpers(env: typeof Handlebars): void {
  env.registerHelper('money', (micro: bigint, currency: string) => formatMoney(micro, currency));
  /** A change in money with its sign: `+$12.00`, `−$3.50`, `±$0.00`. */
  env.registerHelper(
    'delta',
    (micro: bigint, currency: string) =>
      `${micro > 0n ? '+' : micro < 0n ? '−' : '±'}${formatMoney(micro < 0n ? -micro : micro, currency)}`,
  );
  /** A two-decimal percent string with its sign, or `new` when the previous amount was zero. */
  env.registerHelper('percent', (value: string | null) =>
    value === null ? 'new' : `${value.startsWith('-') ? '−' + value.slice(1) : `+${value}`}%`,
  );
  /** `2026-11-30T00:00:00.000Z` as `30 Nov 2026` (UTC). */
  env.registerHelper('date', (iso: string) =>
    new Date(iso).toLocaleDateString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' }),
  );
  /** Basis points of a share as a CSS width percentage, at least 1 so a non-zero line shows. */
  env.registerHelper('barWidth', (shareBp: number) => (shareBp <= 0 ? 0 : Math.max(1, Math.round(shareBp / 100))));
  env.registerHelper('share', (shareBp: number) => `${(shareBp / 100).toFixed(1)}%`);
  env.registerHelper('up', (micro: bigint) => micro > 0n);
  env.registerHelper('down', (micro: bigint) => micro < 0n);
  env.registerHelper('isZero', (micro: bigint) => micro === 0n);
  env.registerHelper('any', (list: readonly unknown[] | null | undefined) => Array.isArray(list) && list.length > 0);
}
