import type { IsoWeek, RegressionLine } from '../domain/report';
import type { RegressionsService } from '../regressions/regressions.service';
import type { RegressionsSource } from './report-view.service';

/**
 * The weekly email's regressions, from the regressions API: every finding of the team still open or reopened, marked
 * `new` when first seen during the week; those resolved during the week. Older resolved findings are left out.
 */
export function regressionsSource(regressions: RegressionsService): RegressionsSource {
  return {
    async forTeam(team: string, week: IsoWeek): Promise<readonly RegressionLine[]> {
      const findings = await regressions.list({ team });
      const within = (at: Date | null): boolean =>
        at !== null && at.getTime() >= week.fromMs && at.getTime() < week.toMs;
      const lines: RegressionLine[] = [];
      for (const f of findings) {
        if (f.state === 'resolved' && !within(f.resolvedAt)) continue;
        const state =
          f.state === 'resolved'
            ? 'resolved'
            : f.state === 'reopened'
              ? 'reopened'
              : within(f.firstSeenAt)
                ? 'new'
                : 'open';
        lines.push({
          service: f.service,
          function: f.function,
          state,
          perYear: f.impactPerYearMicros ?? 0n,
          ticketUrl: f.ticket?.url ?? null,
        });
      }
      return lines;
    },
  };
}
