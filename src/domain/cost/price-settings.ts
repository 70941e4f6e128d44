import { z } from 'zod';
import { parseDecimal, toScaledInteger, type Decimal } from './decimal';

/**
 * The price and cost-mode section of the settings file (`currency`, `prices`, `cost`), also read
 * on its own by `flamebill attribute --prices FILE`. Money is parsed exactly into integers:
 * prices in nano-units of the currency per core-hour, bills in micro-units. See docs/cost-model.md.
 */

/** Prices are held in 1e-9 currency units per core-hour: OpenCost's 0.031611 is 31_611_000n. */
export const PRICE_SCALE = 9;
/** Amounts (bills) and every attributed figure are in 1e-6 currency units (micro-dollars for USD). */
export const MONEY_SCALE = 6;

const decimalInput = (what: string) =>
  z.union([z.number(), z.string()], {
    error: (issue) => (issue.input === undefined ? `missing ${what}` : `${what} must be a decimal number`),
  });

/** A non-negative decimal as integer units of 10^-scale; `positive` also rejects zero. */
function scaledDecimal(what: string, scale: number, positive: boolean) {
  return decimalInput(what).transform((value, ctx) => {
    const parsed = parseDecimal(value);
    const scaled = typeof parsed === 'string' ? parsed : toScaledInteger(parsed, scale);
    if (typeof scaled === 'string') {
      ctx.addIssue({ code: 'custom', message: `${what} ${String(value)} ${scaled}` });
      return z.NEVER;
    }
    if (scaled < 0n || (positive && scaled === 0n)) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} must be ${positive ? 'greater than zero' : 'zero or more'}, got ${String(value)}`,
      });
      return z.NEVER;
    }
    return scaled;
  });
}

/** An exact fraction in (0, 1], such as the share of hosts being profiled. */
const fractionSchema = decimalInput('samplingFraction').transform((value, ctx) => {
  const parsed: Decimal | string = parseDecimal(value);
  if (typeof parsed === 'string' || parsed.units <= 0n || parsed.units > 10n ** BigInt(parsed.scale)) {
    ctx.addIssue({ code: 'custom', message: `samplingFraction must be a decimal in (0, 1], got ${String(value)}` });
    return z.NEVER;
  }
  return { num: parsed.units, den: 10n ** BigInt(parsed.scale) };
});

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An ISO 8601 date ("2026-01-01", UTC midnight) or instant with a zone ("2026-01-01T00:00:00Z"), as epoch ms. */
const instantSchema = z
  .union([z.string(), z.date()], {
    error: (issue) =>
      issue.input === undefined
        ? 'missing effectiveFrom'
        : 'effectiveFrom must be an ISO 8601 date or date-time string',
  })
  .transform((value, ctx) => {
    const ms = value instanceof Date ? value.getTime() : parseInstant(value);
    if (ms === null || Number.isNaN(ms)) {
      ctx.addIssue({
        code: 'custom',
        message: `effectiveFrom "${String(value)}" is not a valid ISO 8601 date or date-time with a zone (e.g. 2026-01-01T00:00:00Z)`,
      });
      return z.NEVER;
    }
    return ms;
  });

function parseInstant(text: string): number | null {
  const m = ISO_INSTANT.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m;
  const ms = Date.parse(m[7] ? text.trim() : `${y}-${mo}-${d}T00:00:00Z`);
  // Date.parse rolls 2026-02-30 over to March: reject dates that do not survive the round trip.
  const back = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  const valid =
    back.getUTCFullYear() === Number(y) &&
    back.getUTCMonth() === Number(mo) - 1 &&
    back.getUTCDate() === Number(d) &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(s) < 60;
  return valid ? ms : null;
}

/** Where a price applies. At most one key; none means everywhere. */
const scopeSchema = z
  .strictObject({
    service: z.string().min(1).optional(),
    cluster: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
  })
  .transform((s, ctx): PriceScope => {
    const entries = Object.entries(s).filter(([, v]) => v !== undefined);
    if (entries.length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'scope must name exactly one of service, cluster or region' });
      return z.NEVER;
    }
    const [kind, value] = entries[0] as ['service' | 'cluster' | 'region', string];
    return { kind, value };
  });

export type PriceScope =
  { readonly kind: 'default' } | { readonly kind: 'service' | 'cluster' | 'region'; readonly value: string };

const priceEntrySchema = z
  .strictObject({
    id: z.string().min(1).optional(),
    costPerCoreHour: scaledDecimal('costPerCoreHour', PRICE_SCALE, false),
    effectiveFrom: instantSchema,
    scope: scopeSchema.optional(),
  })
  .transform((p): PriceEntry => {
    const scope: PriceScope = p.scope ?? { kind: 'default' };
    return {
      id: p.id ?? derivedPriceId(scope, p.effectiveFrom),
      nanosPerCoreHour: p.costPerCoreHour,
      effectiveFromMs: p.effectiveFrom,
      scope,
    };
  });

/** One configured price. */
export interface PriceEntry {
  /** Stable identity recorded on every figure priced with it: the configured `id`, else `scope@effectiveFrom`. */
  readonly id: string;
  /** Currency units × 1e-9 per core-hour. */
  readonly nanosPerCoreHour: bigint;
  readonly effectiveFromMs: number;
  readonly scope: PriceScope;
}

function derivedPriceId(scope: PriceScope, effectiveFromMs: number): string {
  const where = scope.kind === 'default' ? 'default' : `${scope.kind}=${scope.value}`;
  return `${where}@${new Date(effectiveFromMs).toISOString()}`;
}

const pricesSchema = z.array(priceEntrySchema).superRefine((prices, ctx) => {
  const seen = new Map<string, number>();
  prices.forEach((p, i) => {
    const where = p.scope.kind === 'default' ? 'default' : `${p.scope.kind}=${p.scope.value.toLowerCase()}`;
    // Derived ids repeat exactly when the slot repeats: report the slot, not the id, then.
    for (const key of [`slot:${where}@${p.effectiveFromMs}`, `id:${p.id}`]) {
      const first = seen.get(key);
      if (first !== undefined) {
        const what = key.startsWith('id:')
          ? `duplicate price id "${p.id}"`
          : 'two prices with the same scope and effectiveFrom';
        ctx.addIssue({ code: 'custom', path: [i], message: `${what} (also prices[${first}])` });
        break;
      }
      seen.set(key, i);
    }
  });
});

/** Exact fraction p/q. */
export interface Fraction {
  readonly num: bigint;
  readonly den: bigint;
}

const measuredSchema = z.strictObject({
  mode: z.literal('measured'),
  samplingFraction: fractionSchema.prefault(1),
});

const allocatedSchema = z
  .strictObject({
    mode: z.literal('allocated'),
    samplingFraction: fractionSchema.prefault(1),
    /** Cores provisioned for the whole period; capacity = cores × window hours. */
    fleetCores: scaledDecimal('fleetCores', PRICE_SCALE, true).optional(),
    /** A bill for the fleet, spread evenly over the period. */
    bill: z
      .strictObject({ amount: scaledDecimal('bill.amount', MONEY_SCALE, false), per: z.enum(['hour', 'day', 'month']) })
      .optional(),
    /** Price scope of the fleet, when priced by fleetCores (no service scope: the fleet is shared). */
    scope: z.strictObject({ cluster: z.string().min(1).optional(), region: z.string().min(1).optional() }).optional(),
  })
  .refine((a) => a.fleetCores !== undefined || a.bill !== undefined, {
    message: 'allocated mode needs fleetCores or bill (or both)',
  });

const costModeSchema = z.discriminatedUnion('mode', [measuredSchema, allocatedSchema], {
  error: () => 'mode must be "measured" or "allocated"',
});

/** How one source's profiles become money. */
export type CostMode =
  | { readonly mode: 'measured'; readonly samplingFraction: Fraction }
  | {
      readonly mode: 'allocated';
      readonly samplingFraction: Fraction;
      /** Cores in 1e-9 units (fractional cores allowed). */
      readonly fleetCores?: bigint;
      readonly bill?: { readonly amount: bigint; readonly per: 'hour' | 'day' | 'month' };
      readonly scope?: { readonly cluster?: string; readonly region?: string };
    };

const costSchema = z.strictObject({
  default: costModeSchema.prefault({ mode: 'measured' }),
  sources: z.record(z.string(), costModeSchema).prefault({}),
});

/**
 * The settings keys `currency`, `prices` and `cost`. A plain object schema so the settings
 * file's schema can spread its `.shape`; unknown keys elsewhere in the settings are not its business.
 */
export const priceSettingsSchema = z.object({
  currency: z
    .string({ error: 'currency must be an ISO 4217 code such as USD' })
    .refine((c) => /^[A-Z]{3}$/.test(c) && Intl.supportedValuesOf('currency').includes(c), {
      message: 'currency must be an ISO 4217 code such as USD, EUR',
    })
    .prefault('USD'),
  prices: pricesSchema.prefault([]),
  cost: costSchema.prefault({}),
});

/** The same section as a file of its own (`--prices FILE`): unknown top-level keys are typos there. */
export const priceFileSchema = priceSettingsSchema.strict();

export interface PriceSettings {
  readonly currency: string;
  readonly prices: readonly PriceEntry[];
  readonly cost: { readonly default: CostMode; readonly sources: Readonly<Record<string, CostMode>> };
}

// Compile-time check that the schema's output is the documented PriceSettings.
const _outputMatches: (x: z.output<typeof priceSettingsSchema>) => PriceSettings = (x) => x;
void _outputMatches;

/** `prices[1].costPerCoreHour: must be zero or more` for each issue: messages name the key. */
export function formatSettingsIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map(
    (issue) => `${settingsPath([...prefix.split('.').filter(Boolean), ...issue.path])}: ${issue.message}`,
  );
}

/** `['prices', 1, 'scope']` → `prices[1].scope`. */
export function settingsPath(path: readonly PropertyKey[]): string {
  return (
    path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? String(s) : `.${String(s)}`)).join('') || '(root)'
  );
}
