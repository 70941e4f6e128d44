import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { InjectSettings } from '../config/settings.module';
import { ProfileDecodeError } from '../domain/profile';
import { utcDaysCovering } from '../domain/time-window';
import { decodeTree, encodeTree, mergeTrees, pruneTree, type StackTree } from '../domain/profile/tree';
import { buildStoredTrees, decodeStoredTrees, mergeStoredTrees } from '../domain/profile-trees/stored-profile-trees';
import { ProfileRepository, type PushTreeMerge, type StoredProfileHeader } from '../profiles/profile.repository';
import { ALL_VERSIONS, ProfileTreeRepository, type DayTreeRow, type WindowTreeRow } from './profile-tree.repository';

/** What the tree store needs from the settings: the label keys (is `version` one?) and their cardinality limit. */
export interface ProfileTreeSettings {
  readonly labels: { readonly keys: readonly string[]; readonly maxValuesPerKey: number };
}

/** A service of an attributed window and the profiler names that resolved to it (as attribution reports them). */
export interface AttributedService {
  readonly service: string;
  readonly profileServiceNames: readonly string[];
}

/** What one window's tree update did, for logs and the attribution bench. */
export interface TreeWindowResult {
  /** Services whose window trees changed (and whose day trees were rebuilt). */
  readonly changedServices: number;
  /** Profiles of changed services without raw bytes, unreadable, or not matching their row's CPU time. */
  readonly missingRaw: number;
  readonly windowTreeBytes: number;
}

/**
 * Nodes kept per stored tree (window or day, each version): the heaviest, with the rest of each parent's children in
 * one `(other)` node (`pruneTree`), so every stored node's total is exact for its window. A day tree merges pruned
 * window trees: its root and every node kept in each of its windows are exact, a node pruned in some window lacks
 * that window's share (which sits in an `(other)` node above it). The real labelled Go workload has 1.4 M nodes per
 * minute of profile (bench/trees.bench.ts): unpruned, a service-day would not fit the read targets.
 */
export const TREE_MAX_NODES = 50_000;

/** Value of the split for versions past the cardinality limit. */
const OTHER_VERSION = '__other__';
const DAY_MS = 86_400_000;
/** Advisory-lock class serializing tree updates of one UTC day ("tree"). */
const TREE_DAY_LOCK_CLASS = 0x74726565;

/**
 * Keeps one merged call tree per (service, window) and per (service, UTC day), each also per `version` label value
 * when `version` is a configured label key. Run by the `profile-trees` job for attributed windows: a window's trees
 * are rebuilt only for services whose set of profiles changed (by digest), and then that service's day trees are
 * rebuilt from its window trees, so running again over an unchanged window writes nothing.
 */
@Injectable()
export class ProfileTreeService {
  private readonly logger = new Logger(ProfileTreeService.name);

  constructor(
    private readonly trees: ProfileTreeRepository,
    private readonly profiles: ProfileRepository,
    @InjectSettings() private readonly settings: ProfileTreeSettings,
  ) {}

  /**
   * The merged tree of a service (or one of its versions) over the UTC days in [fromDay, toDay), pruned to
   * TREE_MAX_NODES, with how many profiles it lacks (stored without raw bytes); null when no day has a tree. What a
   * flame graph, a diff (two calls) or a PGO export (`writePprof`) starts from.
   */
  async readTree(
    service: string,
    fromDay: string,
    toDay: string,
    version: string = ALL_VERSIONS,
  ): Promise<{ tree: StackTree; days: number; missingRaw: number } | null> {
    const rows = await this.trees.dayTrees(service, fromDay, toDay, version);
    if (rows.length === 0) return null;
    const trees = rows.map((r) => decodeTree(r.tree));
    const tree = trees.length === 1 ? trees[0]! : pruneTree(mergeTrees(trees), TREE_MAX_NODES);
    return { tree, days: rows.length, missingRaw: rows.reduce((n, r) => n + r.missingRaw, 0) };
  }

  /**
   * `readTree` over the UTC days a range touches (a regression's window, a page's period): what the dashboard's
   * differential flame graph and a ticket's SVG read for each side of a finding.
   */
  readCovering(service: string, from: Date, to: Date, version?: string | null) {
    const { fromDay, toDay } = utcDaysCovering(from, to);
    return this.readTree(service, fromDay, toDay, version ?? undefined);
  }

  /**
   * Updates the trees of an attributed window in `tx` (`stored`: its profiles; `services`: the attribution's services
   * and the profiler names behind each). Windows of one UTC day take turns, as their day trees are rebuilt.
   */
  async windowAttributed(
    tx: EntityManager,
    windowStart: Date,
    stored: readonly StoredProfileHeader[],
    services: readonly AttributedService[],
  ): Promise<TreeWindowResult> {
    await tx.query(`SELECT pg_advisory_xact_lock(${TREE_DAY_LOCK_CLASS}, $1::int)`, [
      Math.floor(windowStart.getTime() / DAY_MS),
    ]);
    const groups = groupByService(stored, services);
    const before = await this.trees.windowKeys(tx, windowStart);
    const changed = [...new Set([...groups.keys(), ...before.keys()])]
      .filter((s) => before.get(s) !== groups.get(s)?.digestsKey)
      .sort();
    let missingRaw = 0;
    let windowTreeBytes = 0;
    const rows: WindowTreeRow[] = [];
    if (changed.length === 0) return { changedServices: 0, missingRaw, windowTreeBytes };
    // The pushes compaction has merged into trees are read as those merges; only the others are built here.
    const splitVersion = this.settings.labels.keys.includes('version');
    const merges = (await this.profiles.pushTreeMerges(windowStart, tx)).filter((m) => m.splitVersion === splitVersion);
    const covered = await this.profiles.pushesInTreeMerges(windowStart, merges, tx);
    const serviceOf = attributedServiceOf(services);
    const raws = await this.profiles.rawBytesMany(
      changed.flatMap(
        (s) =>
          groups
            .get(s)
            ?.profiles.filter((p) => !covered.has(p.id))
            .map((p) => p.id) ?? [],
      ),
      tx,
    );
    for (const service of changed) {
      const group = groups.get(service);
      const ownMerges = merges.filter((m) => (serviceOf.get(m.service) ?? m.service) === service);
      const built = group
        ? this.windowRows(service, windowStart, group, raws, covered, ownMerges)
        : { rows: [], missing: 0 };
      for (const r of built.rows) windowTreeBytes += r.tree.length;
      missingRaw += built.missing;
      rows.push(...built.rows);
    }
    await this.trees.replaceWindows(tx, windowStart, changed, rows);
    await this.rebuildDays(tx, changed, windowStart);
    return { changedServices: changed.length, missingRaw, windowTreeBytes };
  }

  /**
   * The window's tree rows of one service: the whole tree and one per version, from its push groups' merged trees and
   * the trees of its profiles those do not cover, built from their raw bytes.
   */
  private windowRows(
    service: string,
    windowStart: Date,
    group: ServiceGroup,
    raws: ReadonlyMap<string, Buffer>,
    covered: ReadonlySet<string>,
    merges: readonly PushTreeMerge[],
  ): { rows: WindowTreeRow[]; missing: number } {
    const built = buildStoredTrees(
      group.profiles.filter((p) => !covered.has(p.id)),
      raws,
      {
        splitVersion: this.settings.labels.keys.includes('version'),
        unreadable: (p, error) => {
          if (!(error instanceof ProfileDecodeError)) return false;
          this.logger.warn(`profile ${p.id} of ${service}: no tree (${error.message})`);
          return true;
        },
      },
    );
    const merged = mergeStoredTrees([...merges.map(decodeStoredTrees), built]);
    const missing = merged.missing;
    if (merged.tree === null) return { rows: [], missing };
    const row = (version: string, tree: StackTree): WindowTreeRow => ({
      service,
      windowStart,
      version,
      digestsKey: group.digestsKey,
      profiles: group.profiles.length,
      missingRaw: missing,
      cpuNanoseconds: tree.value,
      nodeCount: tree.nodeCount,
      tree: Buffer.from(encodeTree(tree)),
    });
    const versions = capVersions(new Map(merged.byVersion), this.settings.labels.maxValuesPerKey);
    return {
      rows: [
        row(ALL_VERSIONS, prunedCanonical(merged.tree)),
        ...[...versions].map(([v, t]) => row(v, prunedCanonical(t))),
      ],
      missing,
    };
  }

  /** Rebuilds the day trees of `services` for the UTC day of `windowStart` from their window trees. */
  private async rebuildDays(tx: EntityManager, services: readonly string[], windowStart: Date): Promise<void> {
    const dayStart = new Date(Math.floor(windowStart.getTime() / DAY_MS) * DAY_MS);
    const day = dayStart.toISOString().slice(0, 10);
    const windows = await this.trees.windowTrees(tx, services, dayStart, new Date(dayStart.getTime() + DAY_MS));
    const byKey = new Map<string, WindowTreeRow[]>();
    for (const w of windows) {
      const key = JSON.stringify([w.service, w.version]);
      byKey.set(key, [...(byKey.get(key) ?? []), w]);
    }
    const rows: DayTreeRow[] = [];
    for (const [key, list] of [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const [service, version] = JSON.parse(key) as [string, string];
      const tree = pruneTree(mergeTrees(list.map((w) => decodeTree(w.tree))), TREE_MAX_NODES);
      rows.push({
        service,
        day,
        version,
        windows: list.length,
        profiles: list.reduce((n, w) => n + w.profiles, 0),
        missingRaw: list.reduce((n, w) => n + w.missingRaw, 0),
        cpuNanoseconds: tree.value,
        nodeCount: tree.nodeCount,
        tree: Buffer.from(encodeTree(tree)),
      });
    }
    await this.trees.replaceDays(tx, day, services, rows);
  }
}

/**
 * `pruneTree` of the tree in its canonical node order (as `encodeTree` writes it): ties between equally heavy nodes
 * go to the lower node id, so without it a window merged from push merges could keep other nodes than the same
 * window built push by push. Only a tree that is pruned pays for it.
 */
function prunedCanonical(tree: StackTree): StackTree {
  if (tree.nodeCount - 1 <= TREE_MAX_NODES) return tree;
  return pruneTree(decodeTree(encodeTree(tree, { compress: false })), TREE_MAX_NODES);
}

/** Profiler service name -> the attributed service it resolved to. */
function attributedServiceOf(services: readonly AttributedService[]): Map<string, string> {
  const serviceOf = new Map<string, string>();
  for (const s of services) for (const n of s.profileServiceNames) serviceOf.set(n, s.service);
  return serviceOf;
}

interface ServiceGroup {
  readonly profiles: StoredProfileHeader[];
  readonly digestsKey: string;
}

/** CPU profiles per attributed service (profiles that are not CPU time are not costed, so not in the trees). */
function groupByService(
  stored: readonly StoredProfileHeader[],
  services: readonly AttributedService[],
): Map<string, ServiceGroup> {
  const serviceOf = attributedServiceOf(services);
  const lists = new Map<string, StoredProfileHeader[]>();
  for (const p of stored) {
    if (p.cpuNanoseconds === null) continue;
    const service = serviceOf.get(p.service) ?? p.service;
    lists.set(service, [...(lists.get(service) ?? []), p]);
  }
  const out = new Map<string, ServiceGroup>();
  for (const [service, profiles] of lists) {
    const digests = profiles.map((p) => `${p.source}/${p.profileType}/${p.digest}`).sort();
    out.set(service, { profiles, digestsKey: createHash('sha256').update(digests.join('\n')).digest('hex') });
  }
  return out;
}

/** At most `max` versions: the heaviest, the rest merged under `__other__` (the facts' cardinality guard). */
function capVersions(versions: Map<string, StackTree>, max: number): Map<string, StackTree> {
  if (versions.size <= max) return new Map([...versions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const ranked = [...versions].sort(([a, x], [b, y]) =>
    x.value > y.value ? -1 : x.value < y.value ? 1 : a < b ? -1 : 1,
  );
  const out = new Map(ranked.slice(0, max));
  out.set(OTHER_VERSION, mergeTrees(ranked.slice(max).map(([, t]) => t)));
  return out;
}
