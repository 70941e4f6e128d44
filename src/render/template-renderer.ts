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
  /** Money that may be unknown (null): `—`. */
  env.registerHelper('moneyOr', (micro: bigint | null, currency: string) =>
    micro === null ? '—' : formatMoney(micro, currency),
  );
  env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  /** Strings joined (the last argument is Handlebars' options object). */
  env.registerHelper('concat', (...parts: unknown[]) => parts.slice(0, -1).map(String).join(''));
  /** A name as one URL path segment (`net/http.(*conn).serve` stays one segment). */
  env.registerHelper('encode', (value: string) => encodeURIComponent(value));
  /** An amount as a sortable cell value (micro-units as a decimal string). */
  env.registerHelper('raw', (value: bigint | number | null) => (value === null ? '' : String(value)));
  /** `2026-11-30T14:00:00.000Z` as `30 Nov 2026, 14:00 UTC`. */
  env.registerHelper('dateTime', (iso: string) => {
    const d = new Date(iso);
    return `${d.toLocaleDateString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' })}, ${iso.slice(11, 16)} UTC`;
  });
  /**
   * JSON for a `<script type="application/json">` island: `<`, `>`, `&` and the JavaScript line separators escaped, so
   * no name from a profile can close the script element or start markup (OWASP's rule for JSON in HTML).
   */
  env.registerHelper(
    'jsonIsland',
    (json: string) =>
      new env.SafeString(
        json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
      ),
  );
}
