export * from './attribution.types';
export { attributeWindow, attributeWindowSplits, resolveParts, priceParts, roundWindow } from './attribution';
export { sumAttributions, type AttributionSummary } from './attribution-summary';
export {
  priceSettingsSchema,
  priceFileSchema,
  formatSettingsIssues,
  settingsPath,
  PRICE_SCALE,
  MONEY_SCALE,
  type PriceSettings,
  type PriceEntry,
  type PriceScope,
  type CostMode,
  type Fraction,
} from './price-settings';
export { parsePriceFile, type PriceFileResult } from './price-file';
export {
  resolvePrice,
  OPENCOST_DEFAULT_NANOS_PER_CORE_HOUR,
  OPENCOST_DEFAULT_PRICE_ID,
  type AppliedPrice,
  type PriceTarget,
} from './price-resolver';
export { splitByWeight, distributeRationals } from './largest-remainder';
export { formatScaled, parseDecimal } from './decimal';
export { formatMoney, moneyJson, type MoneyJson } from './money-json';
export {
  STEPS,
  DAY_MS,
  PeriodError,
  floorToStep,
  addSteps,
  buckets,
  bucketLabel,
  resolvePeriod,
  splitByDay,
  percentChange,
  type Step,
  type TimeRange,
  type ResolvedPeriod,
} from './period';
