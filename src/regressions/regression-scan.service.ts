import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CatalogRepository } from '../catalog/catalog.repository';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { CostQueryService } from '../cost/cost-query.service';
import { inTransaction } from '../database/transactions';
import type { StackTree } from '../domain/profile/tree';
import {
  detectRegressions,
  functionShare,
  lifecycleAction,
  regressionFingerprint,
  type RegressionFinding,
} from '../domain/regression';
import { ProfileTreeRepository } from '../profile-trees/profile-tree.repository';
import { ProfileTreeService } from '../profile-trees/profile-tree.service';
import { findingJson, RegressionRepository, type FindingFigures } from './regression.repository';

const DAY_MS = 86_400_000;

/** The two windows a scan compares (whole UTC days). */
export interface ScanWindows {
  readonly currentFrom: Date;
  readonly currentTo: Date;
  readonly baseFrom: Date;
  readonly baseTo: Date;
}

export interface ScanCounts {
  services: number;
  findings: number;
  opened: number;
  grew: number;
  stayed: number;
  resolved: number;
  reopened: number;
}

/** The default windows: the last complete UTC day before `now` against the 7 days before it. */
export function defaultWindows(now: Date): ScanWindows {
  const currentTo = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
  const currentFrom = new Date(currentTo.getTime() - DAY_MS);
  return { currentFrom, currentTo, baseFrom: new Date(currentFrom.getTime() - 7 * DAY_MS), baseTo: currentFrom };
}

/**
 * The regression scan: for every service with merged trees in both windows, compares the current window with the
 * baseline (and a version new in the current window with the version before it), prices each increase at the
 * service's current price from the cost facts, and records findings and their outbox rows in one transaction.
 */
@Injectable()
export class RegressionScanService {
  private readonly logger = new Logger('RegressionScan');

  constructor(
    private readonly db: DataSource,
    private readonly trees: ProfileTreeService,
    private readonly treeRows: ProfileTreeRepository,
    private readonly costs: CostQueryService,
    private readonly catalog: CatalogRepository,
    private readonly findings: RegressionRepository,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  async scan(windows: ScanWindows): Promise<ScanCounts> {
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const [cf, ct, bf, bt] = [
      day(windows.currentFrom),
      day(windows.currentTo),
      day(windows.baseFrom),
      day(windows.baseTo),
    ];
    const currentServices = new Set(await this.treeRows.servicesWithDayTrees(cf, ct));
    const services = (await this.treeRows.servicesWithDayTrees(bf, bt)).filter((s) => currentServices.has(s));
    const prices = await this.servicePrices(windows);
    const teams = await this.teams();
    const cfg = this.settings.regressions;
    const minImpact = unitsToMicros(cfg.minImpactPerYear);
    const detected = new Map<string, FindingFigures>();
    // Current trees of services whose open findings this scan may resolve: the resolution carries the figures now.
    const open = await this.findings.servicesWithOpenFindings();
    const currentTrees = new Map<string, StackTree>();
    for (const service of services) {
      const price = prices.get(service);
      const compare = (
        base: StackTree,
        current: StackTree,
        baseVersion: string | null,
        currentVersion: string | null,
      ) => {
        const report = detectRegressions(
          { tree: base },
          { tree: current },
          {
            alpha: cfg.alpha,
            minRelativeChange: cfg.minRelativeChange,
            ...(price
              ? {
                  price: {
                    microsPerValue: price,
                    windowNanoseconds: BigInt(windows.currentTo.getTime() - windows.currentFrom.getTime()) * 1_000_000n,
                  },
                  minImpactPerYearMicros: minImpact,
                }
              : {}),
          },
        );
        for (const f of report.findings) {
          const figures = this.figures(
            service,
            teams.get(service.toLowerCase()) ?? null,
            current,
            f,
            windows,
            baseVersion,
            currentVersion,
          );
          detected.set(figures.fingerprint, figures);
        }
      };
      const base = await this.trees.readTree(service, bf, bt);
      const current = await this.trees.readTree(service, cf, ct);
      if (!base || !current) continue;
      compare(base.tree, current.tree, null, null);
      if (open.has(service)) currentTrees.set(service, current.tree);
      // A version the baseline never ran, against the version it ran last: the release that regressed.
      const before = await this.treeRows.versionsOf(service, bf, bt);
      const known = new Set(before.map((v) => v.version));
      const previous = [...before].sort((a, b) =>
        a.lastDay > b.lastDay ? -1 : a.lastDay < b.lastDay ? 1 : a.cpuNanoseconds > b.cpuNanoseconds ? -1 : 1,
      )[0];
      for (const v of await this.treeRows.versionsOf(service, cf, ct)) {
        if (known.has(v.version) || !previous) continue;
        const b = await this.trees.readTree(service, bf, bt, previous.version);
        const c = await this.trees.readTree(service, cf, ct, v.version);
        if (b && c) compare(b.tree, c.tree, previous.version, v.version);
      }
    }
    const counts: ScanCounts = {
      services: services.length,
      findings: detected.size,
      opened: 0,
      grew: 0,
      stayed: 0,
      resolved: 0,
      reopened: 0,
    };
    await inTransaction(this.db, async (tx) => {
      const stored = new Map((await this.findings.findingsOf(tx, services)).map((f) => [f.fingerprint, f]));
      for (const fingerprint of new Set([...stored.keys(), ...detected.keys()])) {
        const before = stored.get(fingerprint) ?? null;
        const now = detected.get(fingerprint) ?? null;
        const action = lifecycleAction(before, now?.cpuNanosecondsDelta ?? null, cfg.growthToComment);
        switch (action.kind) {
          case 'open':
          case 'reopen':
          case 'grow':
            await this.findings.upsert(
              tx,
              now!,
              action.kind === 'open' ? 'open' : action.kind === 'reopen' ? 'reopened' : before!.state,
              now!.cpuNanosecondsDelta,
              null,
            );
            await this.findings.enqueue(
              tx,
              fingerprint,
              action.kind === 'open' ? 'opened' : action.kind === 'reopen' ? 'reopened' : 'grew',
              findingJson(now!),
            );
            counts[action.kind === 'open' ? 'opened' : action.kind === 'reopen' ? 'reopened' : 'grew']++;
            break;
          case 'stay':
            await this.findings.upsert(tx, now!, before!.state, before!.notifiedDelta, null);
            counts.stayed++;
            break;
          case 'resolve': {
            await this.findings.resolve(tx, fingerprint, windows.currentTo);
            // The resolution message carries the new figures: the function's share now is its current share.
            const tree = currentTrees.get(before!.service);
            const now = tree ? functionShare(tree, before!.function, before!.kind) : null;
            await this.findings.enqueue(tx, fingerprint, 'resolved', {
              ...findingJson(before!),
              currentFrom: windows.currentFrom.toISOString(),
              currentTo: windows.currentTo.toISOString(),
              ...(now
                ? {
                    currentShare: now.share,
                    currentCpuNanoseconds: now.value.toString(),
                    // What is left of the increase: the value now minus the baseline share of today's total.
                    cpuNanosecondsDelta: (
                      now.value -
                      (BigInt(Math.round(before!.baseShare * 1e12)) * now.total) / 1_000_000_000_000n
                    ).toString(),
                    impactPerYearMicros: null,
                  }
                : {}),
            });
            counts.resolved++;
            break;
          }
          case 'none':
            break;
        }
      }
    });
    this.logger.log(`scanned ${services.length} services: ${JSON.stringify(counts)}`);
    return counts;
  }

  private figures(
    service: string,
    team: string | null,
    current: StackTree,
    f: RegressionFinding,
    w: ScanWindows,
    baseVersion: string | null,
    currentVersion: string | null,
  ): FindingFigures {
    const sampleType = `${current.sampleType.type}/${current.sampleType.unit}`;
    return {
      fingerprint: regressionFingerprint(service, f.function, sampleType, f.kind),
      service,
      function: f.function,
      sampleType,
      kind: f.kind,
      team,
      baseShare: f.baseShare,
      currentShare: f.currentShare,
      baseCpuNanoseconds: f.baseValue,
      currentCpuNanoseconds: f.currentValue,
      cpuNanosecondsDelta: f.valueDelta,
      impactPerYearMicros: f.impactPerYearMicros,
      pValue: f.pValue,
      baseVersion,
      currentVersion,
      baseFrom: w.baseFrom,
      baseTo: w.baseTo,
      currentFrom: w.currentFrom,
      currentTo: w.currentTo,
      topCallers: f.topCallers.map((c) => ({ function: c.function, cpuNanosecondsDelta: c.valueDelta })),
    };
  }

  /** Each service's price over the current window: its cost over its CPU time in the cost facts (micro-units per ns). */
  private async servicePrices(w: ScanWindows): Promise<Map<string, { numerator: bigint; denominator: bigint }>> {
    const out = new Map<string, { numerator: bigint; denominator: bigint }>();
    let cursor: string | null = null;
    do {
      const page = await this.costs.rows({
        from: w.currentFrom,
        to: w.currentTo,
        step: 'day',
        groupBy: 'service',
        limit: 1000,
        cursor,
      });
      for (const r of page.rows)
        if (r.cpuNanoseconds && r.cpuNanoseconds > 0n)
          out.set(r.key, { numerator: r.cost, denominator: r.cpuNanoseconds });
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  /** Owning team of each service (lower-cased name) in the catalog in force. */
  private async teams(): Promise<Map<string, string>> {
    const good = await this.catalog.currentGood();
    const out = new Map<string, string>();
    if (!good) return out;
    for (const [name, c] of good.catalog.components) {
      const team = good.catalog.groups.get(c.owner)?.team;
      if (team) out.set(name, team);
    }
    return out;
  }
}

/** "1000" or "12.50" (the settings schema's format) as micro-units. */
export function unitsToMicros(text: string): bigint {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6));
}
