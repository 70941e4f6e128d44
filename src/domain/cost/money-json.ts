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
