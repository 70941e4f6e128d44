import { Injectable } from '@nestjs/common';
import { Job } from '../jobs/job.decorator';
import type { JobContext, JobOutcome, JobRunner } from '../jobs/job-runner';
import { defaultWindows, RegressionScanService, type ScanWindows } from './regression-scan.service';

const DAY_MS = 86_400_000;

/**
 * The regression scan, after the night's attribution: the last complete UTC day against the 7 days before it by
 * default (`--from/--to` and `--baseline-from/--baseline-to` choose other whole days), after `profile-trees` for both
 * windows, then `ticket-delivery`.
 */
@Job({
  name: 'regressions',
  description: 'find functions whose share of their service grew (last day vs the 7 before) and queue their tickets',
  defaultSchedule: '20 1 * * *',
  options: [
    {
      flags: '--baseline-from <time>',
      description: 'start of the baseline (ISO 8601, UTC; whole days); default 7 days before --from',
    },
    { flags: '--baseline-to <time>', description: 'end of the baseline, exclusive; default --from' },
  ],
})
@Injectable()
export class RegressionsJob implements JobRunner {
  constructor(private readonly scanner: RegressionScanService) {}

  async run(context: JobContext): Promise<JobOutcome> {
    const windows = scanWindows(context.options.from, context.options.to, context.options.extra ?? {}, new Date());
    // Trees are built beside attribution by `profile-trees` (every 10 min, 48 h back): build what both windows still
    // lack first (a window whose profiles did not change costs a listing), so a scan never reads half-built days.
    for (const [from, to] of [
      [windows.baseFrom, windows.baseTo],
      [windows.currentFrom, windows.currentTo],
    ] as const) {
      const trees = await context.run('profile-trees', { from, to });
      if (trees.status === 'failed')
        return {
          status: 'failed',
          counts: { ...trees.counts },
          errors: [`profile-trees ${from.toISOString()}..${to.toISOString()}: ${trees.errors.join('; ')}`],
        };
    }
    const counts = await this.scanner.scan(windows);
    const delivery = await context.run('ticket-delivery', { ...(context.options.dryRun ? { dryRun: true } : {}) });
    return {
      status: delivery.status === 'failed' ? 'failed' : 'succeeded',
      counts: { ...counts, ...prefixed(delivery.counts) },
      errors: [...delivery.errors],
    };
  }
}

function prefixed(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [`delivery${k[0]!.toUpperCase()}${k.slice(1)}`, v]));
}

/** The windows of a run: options as given (snapped to whole UTC days), defaults around them. */
export function scanWindows(
  from: Date | undefined,
  to: Date | undefined,
  extra: Readonly<Record<string, unknown>>,
  now: Date,
): ScanWindows {
  const day = (d: Date) => new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
  const dayUp = (d: Date) => new Date(Math.ceil(d.getTime() / DAY_MS) * DAY_MS);
  const defaults = defaultWindows(now);
  const currentFrom = from ? day(from) : defaults.currentFrom;
  const currentTo = to ? dayUp(to) : defaults.currentTo;
  const parse = (v: unknown, name: string): Date | undefined => {
    if (v === undefined) return undefined;
    const d = new Date(String(v));
    if (Number.isNaN(d.getTime())) throw new Error(`--${name} must be an ISO 8601 time, got ${JSON.stringify(v)}`);
    return d;
  };
  const bf = parse(extra.baselineFrom, 'baseline-from');
  const bt = parse(extra.baselineTo, 'baseline-to');
  const baseTo = bt ? dayUp(bt) : currentFrom;
  const baseFrom = bf ? day(bf) : new Date(baseTo.getTime() - 7 * DAY_MS);
  if (!(baseFrom < baseTo) || !(currentFrom < currentTo))
    throw new Error('empty scan window: check --from/--to and --baseline-from/--baseline-to');
  return { currentFrom, currentTo, baseFrom, baseTo };
}
