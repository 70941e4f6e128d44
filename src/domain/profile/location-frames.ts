import type { IdIndex } from './pprof-tables';

/**
 * Node ids of every location's frames, leaf first, as a CSR array (`start[loc]..start[loc+1]`), and each location
 * as one *frame code* for the per-frame loops: `node + 1` when the location has a single frame (nearly all do),
 * `-(loc + 1)` when it has several (inlined calls), 0 for an id that is not a location. A frame then costs one table
 * read instead of id -> location -> frame range -> node.
 */
export class LocationFrames {
  /** Frame code by location id, for ids below its length (the dense part of the id index). */
  readonly codeById: Int32Array;

  constructor(
    readonly start: Int32Array,
    readonly ids: Int32Array,
    private readonly index: IdIndex,
  ) {
    const dense = index.denseTable();
    this.codeById = new Int32Array(dense.length);
    for (let id = 0; id < dense.length; id++) if (dense[id] !== 0) this.codeById[id] = this.code(dense[id]! - 1);
  }

  /** Frame code of an id at or past `codeById.length` (ids far above the table size), 0 when unknown. */
  sparseCode(id: number): number {
    const loc = this.index.indexOf(id);
    return loc < 0 ? 0 : this.code(loc);
  }

  private code(loc: number): number {
    return this.start[loc + 1]! - this.start[loc]! === 1 ? this.ids[this.start[loc]!]! + 1 : -(loc + 1);
  }
}
