import { formatScaled } from '../cost/decimal';
import { MONEY_SCALE } from '../cost/price-settings';
import { csvLine } from './csv';
import { coreHours } from './api-format';

/**
 * FOCUS 1.2 rows (FinOps Open Cost and Usage Specification) of profiled CPU cost: one row per charge period (a day
 * or an hour) and service (or function of a service), plus `__idle__` rows for allocated capacity nobody used, so Σ BilledCost is the books'
 * total. Flamebill is provider, publisher and invoice issuer of these figures (names configurable); the priced
 * quantity is CPU core-hours. Money keeps the figures' micro-unit precision (see README, "FOCUS export").
 */

/** The mandatory columns of FOCUS 1.2 that apply to usage charges, then the optional and custom (`x_`) ones we fill. */
export const FOCUS_COLUMNS = [
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeClass',
  'ChargeDescription',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'ContractedCost',
  'EffectiveCost',
  'InvoiceIssuerName',
  'ListCost',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'ServiceCategory',
  'ServiceName',
  'ConsumedQuantity',
  'ConsumedUnit',
  'ResourceId',
  'ResourceName',
  'Tags',
  'x_Team',
  'x_Function',
  'x_PriceId',
  'x_PriceScheduleId',
  'x_CatalogRevision',
  'x_CpuNanoseconds',
  'x_CostMicrounits',
] as const;

export type FocusColumn = (typeof FOCUS_COLUMNS)[number];
export type FocusRow = Readonly<Record<FocusColumn, string | null>>;

/** Who the export names as account, provider, publisher and issuer, and the service name of the charges. */
export interface FocusParties {
  readonly billingAccountId: string;
  readonly billingAccountName: string;
  readonly providerName: string;
  readonly publisherName: string;
  readonly invoiceIssuerName: string;
  readonly serviceName: string;
}

/** One service's (or `__idle__`'s) cost in one charge period. */
export interface FocusCharge {
  readonly periodStartMs: number;
  readonly periodEndMs: number;
  readonly resource: string;
  /** Set when exported per function: the function whose self cost in `resource` this is. */
  readonly function?: string;
  /** Set when exported per label value: `{ key: value }`, added to Tags. */
  readonly label?: Readonly<Record<string, string>>;
  readonly team: string | null;
  readonly system: string | null;
  readonly microunits: bigint;
  /** Null for idle capacity (no CPU time behind it). */
  readonly cpuNanoseconds: bigint | null;
  readonly priceId: string | null;
  readonly priceScheduleIds: readonly string[];
  readonly catalogRevisions: readonly string[];
}

/** `YYYY-MM-DDTHH:mm:ssZ`, as FOCUS writes date-times. */
export function focusTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** The calendar month (UTC) holding `ms`: the billing period of a charge starting then. */
export function billingPeriodOf(ms: number): { readonly startMs: number; readonly endMs: number } {
  const d = new Date(ms);
  return {
    startMs: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    endMs: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
}

/** The FOCUS row of a charge; a charge period must lie inside one calendar month. */
export function focusRow(charge: FocusCharge, currency: string, parties: FocusParties): FocusRow {
  const billing = billingPeriodOf(charge.periodStartMs);
  if (!(charge.periodStartMs < charge.periodEndMs && charge.periodEndMs <= billing.endMs))
    throw new RangeError('a charge period must lie inside one calendar month');
  const money = formatScaled(charge.microunits, MONEY_SCALE);
  // FOCUS wants a quantity on every usage row; idle capacity had no profiled CPU time behind it: 0 consumed.
  const quantity = coreHours(charge.cpuNanoseconds ?? 0n);
  const idle = charge.resource === '__idle__';
  const tags: Record<string, string> = {};
  if (charge.team !== null) tags.team = charge.team;
  if (charge.system !== null) tags.system = charge.system;
  for (const [key, value] of Object.entries(charge.label ?? {})) if (!(key in tags)) tags[key] = value;
  return {
    BilledCost: money,
    BillingAccountId: parties.billingAccountId,
    BillingAccountName: parties.billingAccountName,
    BillingCurrency: currency,
    BillingPeriodEnd: focusTime(billing.endMs),
    BillingPeriodStart: focusTime(billing.startMs),
    ChargeCategory: 'Usage',
    ChargeClass: null,
    ChargeDescription: idle
      ? 'Allocated CPU capacity no profiled service used'
      : charge.function !== undefined
        ? `Profiled CPU time of function ${charge.function} in service ${charge.resource}`
        : `Profiled CPU time of service ${charge.resource}`,
    ChargePeriodEnd: focusTime(charge.periodEndMs),
    ChargePeriodStart: focusTime(charge.periodStartMs),
    ContractedCost: money,
    EffectiveCost: money,
    InvoiceIssuerName: parties.invoiceIssuerName,
    ListCost: money,
    PricingQuantity: quantity,
    PricingUnit: 'Core-Hours',
    ProviderName: parties.providerName,
    PublisherName: parties.publisherName,
    ServiceCategory: 'Compute',
    ServiceName: parties.serviceName,
    ConsumedQuantity: quantity,
    ConsumedUnit: 'Core-Hours',
    ResourceId: charge.resource,
    ResourceName: charge.resource,
    Tags: JSON.stringify(tags),
    x_Team: charge.team,
    x_Function: charge.function ?? null,
    x_PriceId: charge.priceId,
    x_PriceScheduleId: charge.priceScheduleIds.join(' ') || null,
    x_CatalogRevision: charge.catalogRevisions.join(' ') || null,
    x_CpuNanoseconds: charge.cpuNanoseconds === null ? null : charge.cpuNanoseconds.toString(),
    x_CostMicrounits: charge.microunits.toString(),
  };
}

export function focusCsvHeader(): string {
  return csvLine(FOCUS_COLUMNS);
}

export function focusCsvLine(row: FocusRow): string {
  return csvLine(FOCUS_COLUMNS.map((c) => row[c]));
}

/** A JSON line: the same columns, values as strings (decimals stay exact) or null. */
export function focusJsonLine(row: FocusRow): string {
  return `${JSON.stringify(row)}\n`;
}
