/** Regression detection: which functions of a service got more expensive per unit of work. Pure. */
export { detectRegressions, functionShare, isProfilerArtifact } from './detect-regressions';
export { regressionFingerprint } from './fingerprint';
export { erfc, twoSidedP, twoProportionZ, poissonRateZ, holmAdjust, benjaminiHochbergAdjust } from './statistics';
export type {
  DetectOptions,
  RegressionFinding,
  RegressionKind,
  RegressionPrice,
  RegressionReport,
  RegressionSample,
} from './regression.types';
export { lifecycleAction, type LifecycleAction, type LifecycleState } from './lifecycle';
export {
  ticketContent,
  fingerprintMarker,
  escapeBody,
  escapeTitle,
  formatMoney,
  type TicketEvent,
  type TicketFinding,
  type TicketOptions,
} from './ticket-content';
export { resolveRoute, routeOfService, ROUTING_ANNOTATIONS, type Route, type RouteTracker } from './ticket-routing';
