/**
 * The few statistics detection needs, in plain numbers (p-values are not money and are only compared to alpha).
 */

/**
 * Complementary error function, Numerical Recipes' `erfcc` (Chebyshev fit): fractional error below 1.2e-7 everywhere,
 * including far in the tail, which is where p-values of real regressions sit.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Two-sided p-value of a standard normal statistic. */
export function twoSidedP(z: number): number {
  if (!Number.isFinite(z)) return Number.isNaN(z) ? 1 : 0;
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/**
 * z of a two-proportion test: did the proportion x2/n2 differ from x1/n1? Pooled variance (the null hypothesis is
 * that both samples share one proportion). 0 when either sample is empty or the pooled proportion is 0 or 1.
 */
export function twoProportionZ(x1: number, n1: number, x2: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return 0;
  const p = (x1 + x2) / (n1 + n2);
  const variance = p * (1 - p) * (1 / n1 + 1 / n2);
  if (variance <= 0) return 0;
  return (x2 / n2 - x1 / n1) / Math.sqrt(variance);
}

/**
 * z of a comparison of two Poisson rates (counts over exposures, e.g. samples per request): conditionally on
 * x1 + x2, x2 is binomial with p = e2 / (e1 + e2) under the null hypothesis of equal rates.
 */
export function poissonRateZ(x1: number, e1: number, x2: number, e2: number): number {
  const n = x1 + x2;
  if (n <= 0 || e1 <= 0 || e2 <= 0) return 0;
  const q = e2 / (e1 + e2);
  return (x2 - n * q) / Math.sqrt(n * q * (1 - q));
}

/**
 * Holm's step-down adjustment: adjusted p-values controlling the family-wise error rate over all the tests, without
 * assuming they are independent (flat and cum of one function, or a caller and its callee, are not).
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/** Benjamini-Hochberg adjustment (false discovery rate), for callers that prefer power to family-wise control. */
export function benjaminiHochbergAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
  const adjusted = new Array<number>(m);
  let running = 1;
  order.forEach(([p, i], k) => {
    const rank = m - k;
    running = Math.min(running, (p * m) / rank);
    adjusted[i] = Math.min(1, running);
  });
  return adjusted;
}
