/**
 * The weekly cost reports as view models: built from the cost query service's answers (and the regressions), pure.
 * Templates in `reports/` render them; nothing here formats HTML or talks to SMTP.
 */
export {
  buildTeamReport,
  buildOrgReport,
  perYear,
  TOP_FUNCTIONS,
  MOVERS,
  type ReportRow,
  type TeamReportInput,
  type OrgReportInput,
} from './weekly-report';
export { isoWeekOf, lastCompleteWeek, parseIsoWeek, weeksEndingWith, type IsoWeek } from './iso-week';
export type * from './weekly-report.types';
