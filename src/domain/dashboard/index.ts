/** The dashboard's pure parts: which period a page shows, and view models shaped from the query service's answers. */
export { pagePeriod, periodDays, PagePeriodError, type PagePeriod } from './page-period';
export {
  amountLines,
  chartData,
  functionLines,
  shareBp,
  topSeries,
  type AmountLine,
  type ChartData,
  type Change,
  type FunctionLine,
} from './dashboard-view';
