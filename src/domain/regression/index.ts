/** Regression detection: which functions of a service got more expensive per unit of work. Pure. */
export { detectRegressions } from './detect-regressions';
export { regressionFingerprint } from './fingerprint';
export { erfc, twoSidedP, twoProportionZ, poissonRateZ, holmAdjust, benjaminiHochbergAdjust } from './statistics';
export type { DetectOptions, RegressionFinding, RegressionKind, RegressionPrice, RegressionReport, RegressionSample } from './regression.types';
