import { Injectable, NotFoundException } from '@nestjs/common';
import { periodDays, type PagePeriod } from '../domain/dashboard';
import { flameGraphDiffJson, flameGraphJson, mergeTrees, pruneTree, type StackTree } from '../domain/profile/tree';
import { isProfilerArtifact } from '../domain/regression';
import { ProfileTreeService, TREE_MAX_NODES } from '../profile-trees/profile-tree.service';
import type { FindingRow } from '../regressions/regression.repository';

/** Nodes a page's flame graph draws: every node a person can tell apart at full width, and fast to send. */
export const FLAMEGRAPH_NODES = 50_000;

/**
 * The trees behind the pages' flame graphs, from the stored service-day trees (the `profile-trees` job builds them):
 * a service's, a team's (its services merged), and a regression's two sides for the differential flame graph.
 */
@Injectable()
export class FlameGraphService {
  constructor(private readonly trees: ProfileTreeService) {}

  async service(service: string, period: PagePeriod) {
    const { fromDay, toDay } = periodDays(period);
    const read = await this.trees.readTree(service, fromDay, toDay);
    if (!read) throw new NotFoundException(`no stored profile of ${service} between ${fromDay} and ${toDay}`);
    return { subject: service, fromDay, toDay, days: read.days, ...flameGraphJson(read.tree, FLAMEGRAPH_NODES) };
  }

  async team(team: string, services: readonly string[], period: PagePeriod) {
    const { fromDay, toDay } = periodDays(period);
    const reads = await Promise.all(services.map((s) => this.trees.readTree(s, fromDay, toDay)));
    const trees = reads.flatMap((r) => (r ? [r.tree] : []));
    if (trees.length === 0)
      throw new NotFoundException(`no stored profile of a service of ${team} between ${fromDay} and ${toDay}`);
    const tree = trees.length === 1 ? trees[0]! : pruneTree(mergeTrees(trees), TREE_MAX_NODES);
    return { subject: team, fromDay, toDay, services: trees.length, ...flameGraphJson(tree, FLAMEGRAPH_NODES) };
  }

  /**
   * A regression's baseline and current trees (its versions when it compared versions), diffed as shares of each
   * tree's total: the normalization the scan used, so traffic growth alone draws no colour.
   */
  async regression(finding: FindingRow) {
    const side = async (from: Date, to: Date, version: string | null): Promise<StackTree> => {
      const read = await this.trees.readCovering(finding.service, from, to, version);
      if (!read) {
        const { fromDay, toDay } = periodDays({ from, to });
        throw new NotFoundException(
          `no stored profile of ${finding.service}${version ? ` ${version}` : ''} between ${fromDay} and ${toDay}`,
        );
      }
      return read.tree;
    };
    const [base, current] = await Promise.all([
      side(finding.baseFrom, finding.baseTo, finding.baseVersion),
      side(finding.currentFrom, finding.currentTo, finding.currentVersion),
    ]);
    return {
      subject: `${finding.function} in ${finding.service}`,
      baseLabel: finding.baseVersion ?? `${finding.baseFrom.toISOString()} – ${finding.baseTo.toISOString()}`,
      currentLabel:
        finding.currentVersion ?? `${finding.currentFrom.toISOString()} – ${finding.currentTo.toISOString()}`,
      focus: finding.function,
      ...flameGraphDiffJson(base, current, FLAMEGRAPH_NODES, { exclude: isProfilerArtifact }),
    };
  }
}
