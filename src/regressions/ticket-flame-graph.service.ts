import { Injectable, Logger } from '@nestjs/common';
import { flameGraphDiffJson, flameGraphDiffSvg, type StackTree } from '../domain/profile/tree';
import { isProfilerArtifact, type TicketFinding } from '../domain/regression';
import { ProfileTreeService } from '../profile-trees/profile-tree.service';
import type { TicketAttachment } from './trackers/tracker';

/** Nodes of the union tree kept before drawing: far more than the frames at least 0.5 % wide. */
const SVG_TREE_NODES = 5_000;

/**
 * The differential flame graph a ticket carries, as an SVG file: the finding's two sides read from the stored
 * service-day trees exactly as the dashboard's regression page reads them (its versions when it compared versions,
 * else its windows, over the UTC days they touch; profiler artifacts left out, as the scan left them out).
 */
@Injectable()
export class TicketFlameGraphService {
  private readonly logger = new Logger('TicketFlameGraph');

  constructor(private readonly trees: ProfileTreeService) {}

  /** The file name of a finding's graph: the same on every try, so an `attach` tracker can tell it is there. */
  static filename(fingerprint: string): string {
    return `flamebill-diff-${fingerprint.slice(0, 16)}.svg`;
  }

  /** The graph of `finding`, or null (with a log line) when a side has no stored tree or the trees cannot be diffed. */
  async svgOf(finding: TicketFinding): Promise<TicketAttachment | null> {
    try {
      const [base, current] = await Promise.all([
        this.side(finding.service, finding.baseFrom, finding.baseTo, finding.baseVersion),
        this.side(finding.service, finding.currentFrom, finding.currentTo, finding.currentVersion),
      ]);
      if (!base || !current) {
        this.logger.warn(
          `no differential flame graph for ${finding.fingerprint}: no stored tree of ${finding.service} for its ${base ? 'current' : 'baseline'} side`,
        );
        return null;
      }
      const diff = flameGraphDiffJson(base, current, SVG_TREE_NODES, { exclude: isProfilerArtifact });
      const svg = flameGraphDiffSvg(diff, {
        title: `${finding.function} (${finding.kind}) in ${finding.service}`,
        baseLabel: finding.baseVersion ?? `${finding.baseFrom} – ${finding.baseTo}`,
        currentLabel: finding.currentVersion ?? `${finding.currentFrom} – ${finding.currentTo}`,
        focus: finding.function,
      });
      return {
        filename: TicketFlameGraphService.filename(finding.fingerprint),
        contentType: 'image/svg+xml',
        bytes: Buffer.from(svg, 'utf8'),
      };
    } catch (err: unknown) {
      // A ticket without its graph beats no ticket: the trees are a convenience, the finding is the message.
      this.logger.warn(
        `no differential flame graph for ${finding.fingerprint}: ${err instanceof Error ? err.message : String(err)}`,
      );
      return null;
    }
  }

  private async side(service: string, from: string, to: string, version: string | null): Promise<StackTree | null> {
    return (await this.trees.readCovering(service, new Date(from), new Date(to), version))?.tree ?? null;
  }
}
