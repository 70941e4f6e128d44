import { NameStackFolder } from './name-stack-fold';
import { ProfileDecodeError } from './profile-decode.error';
import type { Fold, FoldOptions, ValueType } from './profile.types';

const SAMPLES: ValueType = { type: 'samples', unit: 'count' };
const WALL: ValueType = { type: 'wall', unit: 'microseconds' };

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string };
  children?: number[];
  hitCount?: number;
}

/**
 * Folds a V8 `.cpuprofile` (Node `--cpu-prof`, Chrome DevTools). Sample types: `samples/count` (1 per sample) and
 * `wall/microseconds` (the default, as pprof's last type), where sample i lasts until the next sample and the last
 * one until `endTime`, as DevTools computes it. V8 samples on a wall-clock timer, so this is wall time, not CPU time.
 * The synthetic `(root)` node is not a frame; an empty function name reads `(anonymous)`, as in V8. Profiles without
 * `samples` (old format) fold their `hitCount`s as samples/count only.
 */
export function foldCpuProfile(
  input: Record<string, unknown>,
  options: FoldOptions = {},
  folder: NameStackFolder = new NameStackFolder(options),
): Fold {
  const json = 'head' in input && !('nodes' in input) ? fromLegacyHead(input) : input;
  const nodes = json['nodes'];
  if (!Array.isArray(nodes)) throw new ProfileDecodeError('cpuprofile', 'expected a "nodes" array');
  const byId = new Map<number, CpuProfileNode>();
  nodes.forEach((n: unknown, i) => {
    const node = n as CpuProfileNode;
    if (
      typeof node !== 'object' ||
      node === null ||
      !Number.isSafeInteger(node.id) ||
      typeof node.callFrame?.functionName !== 'string'
    ) {
      throw new ProfileDecodeError(
        'cpuprofile',
        `expected nodes[${i}] to have an integer "id" and "callFrame.functionName"`,
      );
    }
    if (byId.has(node.id)) throw new ProfileDecodeError('cpuprofile', `node id ${node.id} appears twice (nodes[${i}])`);
    byId.set(node.id, node);
  });
  const parent = parentsOf(byId);
  const samples = json['samples'];
  const stacks = new StackCache(byId, parent, folder);
  if (!Array.isArray(samples)) return foldHitCounts(byId, stacks, folder, options);
  const wantWall = pickType(options.sampleType, true) === 1;
  const weights = wantWall ? wallWeights(json, samples.length) : null;
  samples.forEach((id: unknown, i) => {
    const stack = stacks.get(id as number, `samples[${i}]`);
    folder.addRootFirst(stack, stack.length, weights ? weights[i]! : 1);
    folder.sampleCount++;
  });
  return folder.fold('cpuprofile', wantWall ? WALL : SAMPLES, [SAMPLES, WALL]);
}

function foldHitCounts(
  byId: Map<number, CpuProfileNode>,
  stacks: StackCache,
  folder: NameStackFolder,
  options: FoldOptions,
): Fold {
  if (pickType(options.sampleType, false) !== 0)
    throw new ProfileDecodeError('cpuprofile', 'this profile has no "samples", only hit counts (samples/count)');
  for (const node of byId.values()) {
    const hits = node.hitCount ?? 0;
    if (!Number.isSafeInteger(hits) || hits < 0)
      throw new ProfileDecodeError('cpuprofile', `expected node ${node.id} to have a non-negative integer hitCount`);
    if (hits === 0) continue;
    const stack = stacks.get(node.id, `node ${node.id}`);
    folder.addRootFirst(stack, stack.length, hits);
    folder.sampleCount += hits;
  }
  return folder.fold('cpuprofile', SAMPLES, [SAMPLES]);
}

/** 0 for samples/count, 1 for wall/microseconds. */
function pickType(wanted: string | undefined, hasSamples: boolean): number {
  if (wanted === undefined || wanted === '') return hasSamples ? 1 : 0;
  if (['0', 'samples', 'samples/count'].includes(wanted)) return 0;
  if (hasSamples && ['1', 'wall', 'wall/microseconds'].includes(wanted)) return 1;
  throw new ProfileDecodeError(
    'cpuprofile',
    `sample type "${wanted}" is not in the profile; it has: samples/count${hasSamples ? ', wall/microseconds' : ''}`,
  );
}

/**
 * The old DevTools format: a nested `head` tree, `samples` and absolute `timestamps` (µs), but `startTime` and
 * `endTime` in seconds. It becomes the current format; the last sample ends at the extra final timestamp Chrome writes, else it lasts 0 µs.
 */
function fromLegacyHead(json: Record<string, unknown>): Record<string, unknown> {
  const nodes: CpuProfileNode[] = [];
  const pending: unknown[] = [json['head']];
  while (pending.length > 0) {
    const n = pending.pop() as { id?: number; functionName?: string; hitCount?: number; children?: unknown[] } | null;
    if (typeof n !== 'object' || n === null)
      throw new ProfileDecodeError('cpuprofile', 'expected every node of "head" to be an object');
    const children = Array.isArray(n.children) ? n.children : [];
    nodes.push({
      id: n.id as number,
      callFrame: { functionName: n.functionName as string },
      hitCount: n.hitCount ?? 0,
      children: children.map((c) => (c as { id: number }).id),
    });
    pending.push(...children);
  }
  const timestamps = json['timestamps'];
  if (!Array.isArray(timestamps) || !timestamps.every(Number.isSafeInteger)) {
    return { nodes, samples: json['samples'] };
  }
  // Chrome writes one timestamp per sample, sometimes plus one for the end of the last sample.
  const count = Array.isArray(json['samples']) ? json['samples'].length : 0;
  const ts = timestamps as number[];
  const deltas = ts.slice(0, count).map((t, i) => (i === 0 ? 0 : t - ts[i - 1]!));
  const first = ts[0] ?? 0;
  const last = ts[Math.min(count, ts.length - 1)] ?? 0;
  return { nodes, samples: json['samples'], timeDeltas: deltas, startTime: first, endTime: last };
}

/** Duration of each sample in microseconds: until the next sample's timestamp, the last until endTime. */
function wallWeights(json: Record<string, unknown>, count: number): number[] {
  const deltas = json['timeDeltas'];
  const endTime = json['endTime'];
  const startTime = json['startTime'];
  if (!Array.isArray(deltas) || deltas.length !== count || !deltas.every(Number.isSafeInteger)) {
    throw new ProfileDecodeError('cpuprofile', `expected "timeDeltas" to hold ${count} integers, one per sample`);
  }
  if (!Number.isSafeInteger(startTime) || !Number.isSafeInteger(endTime)) {
    throw new ProfileDecodeError('cpuprofile', 'expected integer "startTime" and "endTime" (microseconds)');
  }
  const weights = new Array<number>(count);
  let t = startTime as number;
  for (let i = 0; i < count; i++) t += deltas[i] as number;
  for (let i = count - 1, next = endTime as number; i >= 0; i--) {
    weights[i] = next - t;
    next = t;
    t -= deltas[i] as number;
  }
  return weights;
}

function parentsOf(byId: Map<number, CpuProfileNode>): Map<number, number> {
  const parent = new Map<number, number>();
  for (const node of byId.values()) {
    for (const child of node.children ?? []) {
      if (!byId.has(child))
        throw new ProfileDecodeError('cpuprofile', `node ${node.id} lists child ${child}, which is not a node`);
      if (parent.has(child)) throw new ProfileDecodeError('cpuprofile', `node ${child} has two parents`);
      parent.set(child, node.id);
    }
  }
  return parent;
}

/** Root-first stacks of node ids (frame name ids), computed once per node. */
class StackCache {
  private readonly cache = new Map<number, Int32Array>();

  constructor(
    private readonly byId: Map<number, CpuProfileNode>,
    private readonly parent: Map<number, number>,
    private readonly folder: NameStackFolder,
  ) {}

  get(id: number, where: string): Int32Array {
    const cached = this.cache.get(id);
    if (cached) return cached;
    if (!this.byId.has(id))
      throw new ProfileDecodeError('cpuprofile', `${where} refers to node ${String(id)}, which is not a node`);
    const leafFirst: number[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = this.parent.get(cur)) {
      const name = this.byId.get(cur)!.callFrame.functionName;
      const isRoot = !this.parent.has(cur) && name === '(root)';
      if (!isRoot) leafFirst.push(this.folder.node(name === '' ? '(anonymous)' : name));
      if (leafFirst.length > this.byId.size)
        throw new ProfileDecodeError('cpuprofile', `node ${id} is on a cycle of children`);
    }
    const stack = Int32Array.from(leafFirst.reverse());
    this.cache.set(id, stack);
    return stack;
  }
}
