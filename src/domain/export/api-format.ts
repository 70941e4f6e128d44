import { moneyJson, type MoneyJson } from '../cost/money-json';
import type { Change } from './types';

/** Nanoseconds of one core busy for an hour. */
const NS_PER_CORE_HOUR = 3_600_000_000_000n;
/** Decimals of core-hours: nano core-hours, finer than any price (nano-units per core-hour) needs. */
export const CORE_HOUR_DECIMALS = 9;
/** Decimals of a share of a total (0.123456 = 12.3456 %). */
export const SHARE_DECIMALS = 6;

/** CPU nanoseconds as core-hours, a decimal string rounded half up to `CORE_HOUR_DECIMALS` places. */
export function coreHours(cpuNanoseconds: bigint): string {
  return fixed(divideRounded(cpuNanoseconds * 10n ** BigInt(CORE_HOUR_DECIMALS), NS_PER_CORE_HOUR), CORE_HOUR_DECIMALS);
}

/** part / total as a decimal string with `SHARE_DECIMALS` places (half up); null when the total is 0. */
export function share(part: bigint, total: bigint): string | null {
  if (total === 0n) return null;
  return fixed(divideRounded(part * 10n ** BigInt(SHARE_DECIMALS), total), SHARE_DECIMALS);
}

/** A change as the API shows it: the amount as money, the percentage as a string or null. */
export function changeJson(change: Change): { readonly cost: MoneyJson; readonly percent: string | null } {
  return { cost: moneyJson(change.amount), percent: change.percent };
}

/** a / b rounded half away from zero (b > 0). */
function divideRounded(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a % b;
  if (2n * (r < 0n ? -r : r) >= b) return a < 0n ? q - 1n : q + 1n;
  return q;
}

/** Integer units of 10^-scale with exactly `scale` decimals ("0.500000"): columns of one width in CSV. */
export function fixed(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, digits.length - scale)}${scale > 0 ? `.${digits.slice(digits.length - scale)}` : ''}`;
}
