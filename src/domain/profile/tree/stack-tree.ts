import type { ValueType } from '../profile.types';

/** A function of a stack tree: its printed name and, when the source had them, its file and first line. */
export interface TreeFunction {
  readonly name: string;
  /** Source file; '' when the source has none (folded text, speedscope, V8 .cpuprofile, stripped pprof). */
  readonly file: string;
  /** Function.start_line; 0 when unknown. Go's PGO measures call-site offsets from it. */
  readonly startLine: number;
}

/**
 * A merged call tree of one sample type. Node 0 is the root (no frame); every other node is one frame (a function
 * and the line executing in it: the call site for a caller, the sampled line for a leaf) under its caller. Nodes are
 * stored parent first (`parent[i] < i`), so one backward pass sums totals and one forward pass walks paths.
 *
 * Values are exact bigints: `self` is the value of samples whose stack ends at the node, `total` that plus the totals
 * of its children. Immutable once built (`TreeBuilder.build`): operations return new trees.
 */
export class StackTree {
  private childIndex: { start: Int32Array; ids: Int32Array } | null = null;

  constructor(
    readonly sampleType: ValueType,
    /** Sampling period in the sample type's unit when the sources agreed on one (e.g. 10 ms for Go), else 0n. */
    readonly period: bigint,
    readonly functions: readonly TreeFunction[],
    /** Frame table: function index and line number of each frame. */
    readonly frameFunction: Int32Array,
    readonly frameLine: Float64Array,
    /** Per node: parent node (-1 for the root) and frame (-1 for the root). */
    readonly parent: Int32Array,
    readonly frame: Int32Array,
    readonly self: readonly bigint[],
    readonly total: readonly bigint[],
  ) {}

  get nodeCount(): number {
    return this.parent.length;
  }

  /** Sum of every sample value in the tree. */
  get value(): bigint {
    return this.total[0] ?? 0n;
  }

  /** The function of node `i` (i > 0). */
  functionOf(i: number): TreeFunction {
    return this.functions[this.frameFunction[this.frame[i]!]!]!;
  }

  /** The line of node `i` (i > 0): call site or sampled line; 0 when unknown. */
  lineOf(i: number): number {
    return this.frameLine[this.frame[i]!]!;
  }

  /** Children of every node as a CSR index, built once on first use. */
  children(): { readonly start: Int32Array; readonly ids: Int32Array } {
    if (this.childIndex) return this.childIndex;
    const n = this.nodeCount;
    const start = new Int32Array(n + 1);
    for (let i = 1; i < n; i++) start[this.parent[i]! + 1]!++;
    for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
    const fill = start.slice(0, n);
    const ids = new Int32Array(Math.max(0, n - 1));
    for (let i = 1; i < n; i++) ids[fill[this.parent[i]!]!++] = i;
    this.childIndex = { start, ids };
    return this.childIndex;
  }

  /** Root-first frames of node `i` as function names (the stack of a folded line). */
  pathNames(i: number): string[] {
    const out: string[] = [];
    for (let n = i; n > 0; n = this.parent[n]!) out.push(this.functionOf(n).name);
    return out.reverse();
  }
}

/** The key that identifies a function across trees. */
function functionKey(f: TreeFunction): string {
  return `${f.name}\u0000${f.file}\u0000${f.startLine}`;
}

/** Most distinct frames a tree holds (far above real profiles: thousands). */
const FRAME_SPAN = 1 << 26;

function childHash(node: number, frame: number): number {
  const h = Math.imul(node, 0x9e3779b1) ^ Math.imul(frame + 1, 0x85ebca6b);
  return h ^ (h >>> 15);
}

/**
 * Builds a StackTree: functions and frames are interned, a stack is added root first, values sum exactly. Nodes
 * are created parent first, which `build` relies on.
 */
export class TreeBuilder {
  readonly functions: TreeFunction[] = [];
  private readonly functionIds = new Map<string, number>();
  private readonly frameFunction: number[] = [];
  private readonly frameLine: number[] = [];
  private readonly frameIds = new Map<string, number>();
  readonly parent: number[] = [-1];
  readonly frame: number[] = [-1];
  readonly self: bigint[] = [0n];
  /** Open-addressing table of node id + 1 by hash of (parent, frame): a Map keyed by numbers was most of a build. */
  private slots = new Int32Array(1 << 12);

  constructor(
    readonly sampleType: ValueType,
    public period: bigint = 0n,
  ) {}

  /** Index of a function, interned. */
  fn(f: TreeFunction): number {
    const key = functionKey(f);
    let id = this.functionIds.get(key);
    if (id === undefined) {
      id = this.functions.length;
      this.functions.push({ name: f.name, file: f.file, startLine: f.startLine });
      this.functionIds.set(key, id);
    }
    return id;
  }

  /** Index of the frame (function index, line), interned. */
  frameOf(fn: number, line: number): number {
    const key = `${fn}:${line}`;
    let id = this.frameIds.get(key);
    if (id === undefined) {
      id = this.frameFunction.length;
      if (id >= FRAME_SPAN) throw new Error(`a stack tree holds at most ${FRAME_SPAN} distinct frames`);
      this.frameFunction.push(fn);
      this.frameLine.push(line);
      this.frameIds.set(key, id);
    }
    return id;
  }

  /** The child of `node` with `frame`, created when new. */
  child(node: number, frame: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = childHash(node, frame) & mask;
    for (;;) {
      const id = slots[slot]! - 1;
      if (id < 0) break;
      if (this.parent[id] === node && this.frame[id] === frame) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.parent.length;
    this.parent.push(node);
    this.frame.push(frame);
    this.self.push(0n);
    slots[slot] = id + 1;
    if (2 * this.parent.length > slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 1; id < this.parent.length; id++) {
      let slot = childHash(this.parent[id]!, this.frame[id]!) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
    }
    this.slots = slots;
  }

  /** Sizes the child table for `nodes` nodes in all, so that a merge of known size never rehashes. */
  reserve(nodes: number): void {
    let size = this.slots.length;
    while (size < 2 * nodes) size *= 2;
    if (size > this.slots.length) {
      this.slots = new Int32Array(size / 2);
      this.rehash();
    }
  }

  /** Adds `value` at the end of a stack of frame indices given root first. */
  addStack(rootFirst: ArrayLike<number>, length: number, value: bigint): void {
    let node = 0;
    for (let i = 0; i < length; i++) node = this.child(node, rootFirst[i]!);
    this.self[node]! += value;
  }

  /** Adds `value` to a node's self value. */
  addSelf(node: number, value: bigint): void {
    this.self[node]! += value;
  }

  get nodeCount(): number {
    return this.parent.length;
  }

  /** The tree: totals summed in one backward pass (children come after their parent). */
  build(): StackTree {
    const n = this.parent.length;
    const total = this.self.slice();
    for (let i = n - 1; i > 0; i--) total[this.parent[i]!]! += total[i]!;
    return new StackTree(
      this.sampleType,
      this.period,
      this.functions.slice(),
      Int32Array.from(this.frameFunction),
      Float64Array.from(this.frameLine),
      Int32Array.from(this.parent),
      Int32Array.from(this.frame),
      this.self.slice(),
      total,
    );
  }
}

/**
 * Maps every frame of `tree` into `builder` (functions interned by name, file and start line): the frame table a
 * merge or diff walks with.
 */
export function importFrames(builder: TreeBuilder, tree: StackTree): Int32Array {
  const fnMap = tree.functions.map((f) => builder.fn(f));
  const out = new Int32Array(tree.frameFunction.length);
  for (let f = 0; f < out.length; f++) out[f] = builder.frameOf(fnMap[tree.frameFunction[f]!]!, tree.frameLine[f]!);
  return out;
}

/** Maps every node of `tree` to a node of `builder` with the same path (created when new); parent first. */
export function importNodes(builder: TreeBuilder, tree: StackTree): Int32Array {
  const frames = importFrames(builder, tree);
  const n = tree.nodeCount;
  const map = new Int32Array(n);
  for (let i = 1; i < n; i++) map[i] = builder.child(map[tree.parent[i]!]!, frames[tree.frame[i]!]!);
  return map;
}

/** An empty tree of a sample type. */
export function emptyTree(sampleType: ValueType, period = 0n): StackTree {
  return new TreeBuilder(sampleType, period).build();
}
