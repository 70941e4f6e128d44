import { formatScaled } from './decimal';
import { MONEY_SCALE } from './price-settings';

/** Money as the API shows it: exact micro-units and a decimal string of the currency, both strings (never floats). */
export interface MoneyJson {
  readonly microdollars: string;
  readonly dollars: string;
}

export function moneyJson(microdollars: bigint): MoneyJson {
  return { microdollars: microdollars.toString(), dollars: formatScaled(microdollars, MONEY_SCALE) };
}

/**
 * Money for people: micro-units in the currency's own format and precision (USD 2 decimals, JPY none), rounded half
 * away from zero from the exact decimal string (Intl formats decimal strings without going through a float).
 */
export function formatMoney(microunits: bigint, currency: string, locale = 'en-US'): string {
  const format = new Intl.NumberFormat(locale, { style: 'currency', currency });
  return format.format(formatScaled(microunits, MONEY_SCALE) as `${number}`);
}
