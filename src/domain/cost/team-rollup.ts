import type { Catalog } from '../catalog/catalog.types';
import { ancestorsOf } from '../catalog/group-tree';
import { IDLE, UNOWNED, type TeamCost } from './attribution.types';

/** A service's integer cost with its owning group (null when unowned). */
export interface OwnedAmount {
  readonly teamKey: string | null;
  readonly microdollars: bigint;
}

/**
 * Team lines for a window: each group's own cost (services it owns) and rolled-up cost (own plus
 * all descendant groups), for every group on the path from an owning team to the root; then
 * `__unowned__` and `__idle__` lines, present even when zero so totals always reconcile visibly.
 */
export function rollUpTeams(
  catalog: Catalog | null,
  amounts: readonly OwnedAmount[],
  idleMicrodollars: bigint,
): TeamCost[] {
  const own = new Map<string, bigint>();
  const rolled = new Map<string, bigint>();
  let unowned = 0n;
  const parents = new Map([...(catalog?.groups.values() ?? [])].map((g) => [g.key, g.parent]));
  for (const { teamKey, microdollars } of amounts) {
    if (teamKey === null) {
      unowned += microdollars;
      continue;
    }
    own.set(teamKey, (own.get(teamKey) ?? 0n) + microdollars);
    for (const key of [teamKey, ...ancestorsOf(teamKey, parents)])
      rolled.set(key, (rolled.get(key) ?? 0n) + microdollars);
  }
  const groups = [...rolled.keys()].map((key) =>
    groupLine(catalog as Catalog, key, own.get(key) ?? 0n, rolled.get(key) ?? 0n),
  );
  groups.sort((a, b) =>
    a.rolledUpMicrodollars === b.rolledUpMicrodollars
      ? a.team < b.team
        ? -1
        : 1
      : a.rolledUpMicrodollars > b.rolledUpMicrodollars
        ? -1
        : 1,
  );
  return [...groups, pseudoTeam(UNOWNED, 'unowned', unowned), pseudoTeam(IDLE, 'idle', idleMicrodollars)];
}

function groupLine(catalog: Catalog, key: string, ownMicrodollars: bigint, rolledUpMicrodollars: bigint): TeamCost {
  const group = catalog.groups.get(key);
  if (!group) throw new Error(`catalog invariant broken: no group ${key}`);
  const parent = group.parent === null ? null : (catalog.groups.get(group.parent)?.team ?? null);
  return {
    team: group.team,
    kind: 'group',
    displayName: group.displayName,
    email: group.email,
    parent,
    ownMicrodollars,
    rolledUpMicrodollars,
  };
}

function pseudoTeam(team: string, kind: 'unowned' | 'idle', amount: bigint): TeamCost {
  return {
    team,
    kind,
    displayName: null,
    email: null,
    parent: null,
    ownMicrodollars: amount,
    rolledUpMicrodollars: amount,
  };
}
