/**
 * Exact decimal parsing for money and ratios. Prices arrive either as strings ("0.0316") or as the
 * numbers a YAML parser produced (0.0316). For a number we take its shortest round-trip text
 * (`String(n)`): every decimal with at most 15 significant digits maps to a unique double whose
 * shortest text is that decimal again, so this recovers what was written exactly. Numbers with
 * more significant digits than that may already have lost digits in the parser, so they are
 * refused with advice to quote them.
 */

/** Significant digits a double recovers exactly (DBL_DIG). */
const EXACT_NUMBER_DIGITS = 15;

/** A decimal as integer units of 10^-scale: 0.0316 is { units: 316n, scale: 4 }. */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

/** Parses plain or exponent decimal text ("12", "0.0316", "-1.5", "3.2e-5"); returns an error fragment ("is not a decimal number") when malformed. */
export function parseDecimalText(text: string): Decimal | string {
  const m =
    /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim()) ??
    /^([+-]?)()\.(\d+)(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m) return 'is not a decimal number';
  const [, sign, whole, fraction = '', exponent = '0'] = m;
  const digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, '') || '0';
  let scale = fraction.length - Number(exponent);
  let units = BigInt(digits);
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return normalize({ units: sign === '-' ? -units : units, scale });
}

/** Parses a YAML number or string exactly (see the module comment for numbers). */
export function parseDecimal(value: number | string): Decimal | string {
  if (typeof value === 'string') return parseDecimalText(value);
  if (!Number.isFinite(value)) return 'is not a finite number';
  const text = String(value);
  const significant = text.replace(/e.*$/i, '').replace(/[-+.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
  if (significant.length > EXACT_NUMBER_DIGITS) {
    return `has more than ${EXACT_NUMBER_DIGITS} significant digits, which a YAML number cannot hold exactly; quote it as a string`;
  }
  return parseDecimalText(text);
}

/**
 * The decimal as integer units of 10^-scale (e.g. scale 9 gives nano-units); an error message when
 * it has more fractional digits than `scale`, since silently rounding money is not acceptable.
 */
export function toScaledInteger(d: Decimal, scale: number): bigint | string {
  if (d.scale > scale) return `has more than ${scale} decimal places (the finest supported unit is 1e-${scale})`;
  return d.units * 10n ** BigInt(scale - d.scale);
}

/** Strips trailing fractional zeros so `scale` counts only significant decimals. */
function normalize(d: Decimal): Decimal {
  let { units, scale } = d;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale -= 1;
  }
  return { units, scale };
}

/** Formats integer units of 10^-scale as a plain decimal string ("0.0316"), for display and ids. */
export function formatScaled(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
