import { FoldAccumulator } from './fold-accumulator';
import type { Fold, FoldOptions, ValueType } from './profile.types';

/** Name of a frame with an empty name, as pprof prints it. */
export const UNKNOWN_FRAME = '<unknown>';

/**
 * Folds stacks given as frame names (the text and JSON formats). Names are the function identity, as in pprof; an
 * empty name reads `<unknown>`. These formats carry no labels: with label keys requested, everything is one `{}`
 * slice so that slices still sum to the totals. The decoders take a folder as a parameter so that the stack-tree
 * builder can pass one that also keeps the stacks (`addRootFirst` is its hook).
 */
export class NameStackFolder {
  private readonly acc = new FoldAccumulator();
  private readonly slice;
  private nodes = new Int32Array(256);
  sampleCount = 0;

  constructor(options: FoldOptions) {
    this.slice = options.labelKeys && options.labelKeys.length > 0 ? this.acc.slice({}) : undefined;
  }

  /** Node id of a frame name (interned). */
  node(name: string): number {
    return this.acc.intern(name === '' ? UNKNOWN_FRAME : name);
  }

  /** Adds one stack given as node ids, root first. */
  addRootFirst(rootFirst: ArrayLike<number>, length: number, value: number | bigint): void {
    if (length > this.nodes.length) this.nodes = new Int32Array(Math.max(length, this.nodes.length * 2));
    for (let i = 0; i < length; i++) this.nodes[i] = rootFirst[length - 1 - i]!;
    this.acc.add(this.nodes, length, value, this.slice);
  }

  /** The fold, with the sample type metadata of the format. */
  fold(format: Fold['format'], sampleType: ValueType, sampleTypes: readonly ValueType[]): Fold {
    const r = this.acc.result();
    return {
      format,
      sampleType,
      sampleTypes,
      periodType: null,
      period: 0n,
      timeNanos: 0n,
      durationNanos: 0n,
      sampleCount: this.sampleCount,
      total: r.total,
      absoluteTotal: r.absoluteTotal,
      functions: r.functions,
      ...(this.slice ? { slices: r.slices, droppedLabelKeys: [] } : {}),
    };
  }
}
