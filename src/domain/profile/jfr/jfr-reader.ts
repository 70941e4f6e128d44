import { JfrCursor, type JfrId } from './jfr-cursor';
import { readMetadata, ValueKind, type JfrClass, type JfrField, type JfrMetadata } from './jfr-metadata';
import { stableSymbol } from './jvm-frame-names';

/*
 * A reader of JFR recordings (the JDK's Flight Recorder and async-profiler's JFR output, which the Pyroscope Java
 * agent pushes). Written by hand: npm has no maintained JFR parser (`npm view jfr-parser`, `@grafana/jfr-parser`,
 * `jfr`: all 404 in 2026-12), and the fold needs only stacks and a few event fields. The reference is
 * grafana/jfr-parser (Go), which Pyroscope uses; this reader follows its choices where they decide values (which
 * events count, frame names, thread states), so that flamebill bills what Pyroscope shows.
 *
 * Layout: a recording is a sequence of chunks. Each chunk has a 68-byte header (magic "FLR\0", version, size,
 * offsets of its last constant-pool checkpoint and of its metadata event, times, features), a metadata event
 * describing every class and its fields, checkpoint events holding constant pools (chained backwards by a
 * relative offset), and events. Pools are chunk-local: ids mean nothing across chunks.
 */

const CHUNK_HEADER_BYTES = 68;
const CHUNK_MAGIC = 0x464c5200;
/** Nested inline objects deeper than this are corrupt input (real classes nest two or three levels). */
const MAX_VALUE_DEPTH = 16;
/** Checkpoints per chunk: the backward chain of a corrupt file could otherwise loop. */
const MAX_CHECKPOINTS = 1 << 20;

/**
 * The event types the fold reads: grafana/jfr-parser's (its pprof conversion is Pyroscope's), plus the JDK's
 * jdk.NativeMethodSample, which jfr-parser ignores.
 */
export type JfrEventKind =
  | 'execution'
  | 'wallClock'
  | 'allocInNewTlab'
  | 'allocOutsideTlab'
  | 'allocSample'
  | 'monitorEnter'
  | 'threadPark'
  | 'liveObject'
  | 'malloc'
  | 'nativeSample'
  | 'setting';

const EVENT_CLASSES: Readonly<Record<string, JfrEventKind>> = {
  'jdk.ExecutionSample': 'execution',
  'profiler.WallClockSample': 'wallClock',
  'jdk.ObjectAllocationInNewTLAB': 'allocInNewTlab',
  'jdk.ObjectAllocationOutsideTLAB': 'allocOutsideTlab',
  'jdk.ObjectAllocationSample': 'allocSample',
  'jdk.JavaMonitorEnter': 'monitorEnter',
  'jdk.ThreadPark': 'threadPark',
  'profiler.LiveObject': 'liveObject',
  'profiler.Malloc': 'malloc',
  'jdk.NativeMethodSample': 'nativeSample',
  'jdk.ActiveSetting': 'setting',
};

/** Which event value each kind bills (its second pprof value), as in jfr-parser's pprof conversion. */
const VALUE_FIELD: Readonly<Partial<Record<JfrEventKind, string>>> = {
  wallClock: 'samples',
  allocInNewTlab: 'tlabSize',
  allocOutsideTlab: 'allocationSize',
  allocSample: 'weight',
  monitorEnter: 'duration',
  threadPark: 'duration',
  malloc: 'size',
};

/** One event as the fold sees it; the reader reuses one object, so copy what you keep. */
export interface JfrEvent {
  kind: JfrEventKind;
  /** Index into `JfrRecording.stacks`, or -1 when the event has no stack or its stack is not in the pools. */
  stack: number;
  /** Thread state name (`STATE_RUNNABLE`, `STATE_SLEEPING`...), or null when absent. */
  state: string | null;
  /** Pyroscope context id (labels), 0 when absent. */
  contextId: number;
  /** Pyroscope span name string id, 0 when absent. */
  spanName: number;
  /** Pyroscope span id (unsigned 64-bit), 0 when absent. */
  spanId: number | bigint;
  /** The kind's value field (samples, tlabSize, allocationSize, weight, duration, size), 0 when absent. */
  value: number;
  /** jdk.ActiveSetting's name and value. */
  settingName: string;
  settingValue: string;
}

/** What the reader found besides events: stacks of function-name ids (leaf first), names, and chunk times. */
export interface JfrRecording {
  readonly names: string[];
  readonly stacks: Int32Array[];
  chunks: number;
  startNanos: number;
  endNanos: number;
}

/** Where a field's value goes when an event is read (-1: skipped). */
const enum Slot {
  None = -1,
  Stack = 0,
  State = 1,
  Context = 2,
  SpanName = 3,
  SpanId = 7,
  Value = 4,
  SettingName = 5,
  SettingValue = 6,
}

interface EventPlan {
  readonly kind: JfrEventKind;
  readonly cls: JfrClass;
  readonly slots: Int8Array;
}

/**
 * Reads every chunk of an uncompressed recording and calls `onEvent` for each event the fold reads, in file order.
 * Stacks are resolved to function names (`class.method`, class names with `/` as the JVM writes them) once per
 * chunk and stack id. Throws ProfileDecodeError (format `jfr`, with the byte offset) on malformed input.
 */
export function readJfr(bytes: Uint8Array, onEvent: (event: JfrEvent) => void): JfrRecording {
  const recording: JfrRecording = { names: [], stacks: [], chunks: 0, startNanos: 0, endNanos: 0 };
  const nameIds = new Map<string, number>();
  const c = new JfrCursor(bytes);
  let pos = 0;
  while (pos < bytes.length) {
    pos = new ChunkReader(c, pos, recording, nameIds).read(onEvent);
  }
  if (recording.chunks === 0) c.fail('a JFR chunk (magic "FLR\\0"), found no data', 0);
  return recording;
}

class ChunkReader {
  private meta!: JfrMetadata;
  private readonly pools = new Map<number, Map<JfrId, number>>();
  /** Stack traces by id: their frames' method ids, leaf first, read while indexing the pools (read once). */
  private readonly stackMethods = new Map<JfrId, JfrId[]>();
  private readonly stackIndex = new Map<JfrId, number>();
  private readonly methodName = new Map<JfrId, number>();
  private readonly symbols = new Map<JfrId, string>();
  private readonly classNames = new Map<JfrId, string | null>();
  private readonly states = new Map<JfrId, string | null>();
  private readonly poolCursor: JfrCursor;
  private end = 0;
  private frameMethodAt = -1;
  private types!: {
    stackTrace: JfrClass;
    stackFrame: JfrClass;
    method: JfrClass;
    cls: JfrClass;
    symbol: JfrClass;
    threadState: JfrClass;
    string: JfrClass;
  };

  constructor(
    private readonly c: JfrCursor,
    private readonly start: number,
    private readonly recording: JfrRecording,
    private readonly nameIds: Map<string, number>,
  ) {
    this.poolCursor = new JfrCursor(c.buf);
  }

  /** Reads the chunk and returns the offset of the next one. */
  read(onEvent: (event: JfrEvent) => void): number {
    const c: JfrCursor = this.c;
    const start = this.start;
    c.pos = start;
    c.end = c.buf.length;
    if (c.end - start < CHUNK_HEADER_BYTES)
      c.fail(`a ${CHUNK_HEADER_BYTES}-byte chunk header, found ${c.end - start} bytes`, start);
    const magic = c.fixed(4);
    if (magic !== CHUNK_MAGIC) c.fail(`a chunk magic "FLR\\0", found 0x${magic.toString(16).padStart(8, '0')}`, start);
    const major = c.buf[start + 4]! * 256 + c.buf[start + 5]!;
    c.pos = start + 8;
    if (major !== 2 && major !== 1) c.fail(`JFR format version 1 or 2, found ${major}`, start + 4);
    const size = c.fixed(8);
    const poolOffset = c.fixed(8);
    const metaOffset = c.fixed(8);
    const startNanos = c.fixed(8);
    const durationNanos = c.fixed(8);
    c.pos = start + 64;
    const features = c.fixed(4);
    if (size < CHUNK_HEADER_BYTES || start + size > c.buf.length) {
      c.fail(`a chunk size within the data (${c.buf.length - start} bytes left), found ${size}`, start + 8);
    }
    this.end = start + size;
    for (const [what, offset] of [
      ['constant pool', poolOffset],
      ['metadata', metaOffset],
    ] as const) {
      if (offset < CHUNK_HEADER_BYTES || offset >= size)
        c.fail(`a ${what} offset inside the chunk, found ${offset}`, start);
    }
    // Feature bit 0: integers are LEB128 varints (every JDK since 11 and async-profiler set it).
    c.compressed = (features & 1) === 1;
    this.poolCursor.compressed = c.compressed;
    this.noteTimes(startNanos, durationNanos);

    c.pos = start + metaOffset;
    c.end = this.end;
    this.meta = readMetadata(c);
    this.types = this.requiredTypes();
    const frame = this.types.stackFrame;
    this.frameMethodAt = frame.fields.findIndex(
      (f) => f.name === 'method' && f.constantPool && !f.array && f.typeId === this.types.method.id,
    );
    this.indexPools(start + poolOffset);
    this.readEvents(onEvent);
    this.recording.chunks++;
    return this.end;
  }

  private noteTimes(startNanos: number, durationNanos: number): void {
    const r = this.recording;
    if (r.chunks === 0 || startNanos < r.startNanos) r.startNanos = startNanos;
    r.endNanos = Math.max(r.endNanos, startNanos + durationNanos);
  }

  private requiredTypes(): ChunkReader['types'] {
    const get = (name: string): JfrClass => {
      const cls = this.meta.byName.get(name);
      if (!cls) this.c.fail(`class "${name}" in the chunk metadata`, this.start);
      return cls;
    };
    return {
      stackTrace: get('jdk.types.StackTrace'),
      stackFrame: get('jdk.types.StackFrame'),
      method: get('jdk.types.Method'),
      cls: get('java.lang.Class'),
      symbol: get('jdk.types.Symbol'),
      threadState: get('jdk.types.ThreadState'),
      string: get('java.lang.String'),
    };
  }

  /**
   * Walks the checkpoint chain (from the header's offset, each one pointing back by a relative delta, 0 ending it)
   * and records where each pool entry starts; entries are decoded only when an event needs them, so pools may
   * reference each other in any order.
   */
  private indexPools(first: number): void {
    const c: JfrCursor = this.c;
    const seen = new Set<number>();
    let pos = first;
    for (let n = 0; ; n++) {
      if (n >= MAX_CHECKPOINTS || seen.has(pos)) c.fail('a checkpoint chain without cycles', pos);
      seen.add(pos);
      if (pos < this.start + CHUNK_HEADER_BYTES || pos >= this.end) c.fail('a checkpoint offset inside the chunk', pos);
      c.pos = pos;
      c.end = this.end;
      const size = c.int();
      if (size <= 0 || pos + size > this.end) c.fail(`a checkpoint size within the chunk, found ${size}`, pos);
      c.end = pos + size;
      c.long(); // event type (1)
      c.long(); // start
      c.long(); // duration
      const delta = c.signedLong('a checkpoint delta');
      c.int(); // checkpoint type (flush, chunk header, statics, thread)
      const poolCount = c.int();
      c.checkCount(poolCount, 'constant pools');
      for (let i = 0; i < poolCount; i++) this.indexPool();
      if (delta === 0) return;
      pos += delta;
    }
  }

  private indexPool(): void {
    const c: JfrCursor = this.c;
    const at = c.pos;
    const typeId = c.safeLong('a pool type id');
    const cls = this.meta.byId.get(typeId);
    if (!cls) c.fail(`a pool of a class in the metadata, found type ${typeId}`, at);
    if (cls.name === 'jdk.types.ChunkHeader') {
      // The JDK repeats the chunk header as a pool of raw bytes (grafana/jfr-parser skips it the same way).
      c.skip(CHUNK_HEADER_BYTES);
      return;
    }
    const count = c.int();
    c.checkCount(count, `entries of pool ${cls.name}`);
    if (cls === this.types.stackTrace) {
      for (let i = 0; i < count; i++) {
        const id = c.id();
        this.stackMethods.set(id, this.readStackMethods(c));
      }
      return;
    }
    let entries = this.pools.get(typeId);
    if (!entries) this.pools.set(typeId, (entries = new Map()));
    for (let i = 0; i < count; i++) {
      const id = c.id();
      entries.set(id, c.pos);
      skipObject(c, cls, 0);
    }
  }

  /** The method ids of one stack trace entry's frames, leaf first (the cursor is after the entry's id). */
  private readStackMethods(pc: JfrCursor): JfrId[] {
    const methods: JfrId[] = [];
    for (const field of this.types.stackTrace.fields) {
      if (field.name !== 'frames' || !field.array || field.constantPool || field.typeId !== this.types.stackFrame.id) {
        skipField(pc, field, 0);
        continue;
      }
      const count = pc.int();
      pc.checkCount(count, 'stack frames');
      const frameFields = this.types.stackFrame.fields;
      const methodAt = this.frameMethodAt;
      if (methodAt >= 0 && pc.compressed && this.types.stackFrame.varintFields >= 0) {
        // The common layout (method, lineNumber, bytecodeIndex, type: all varints): no per-field dispatch.
        for (let i = 0; i < count; i++) {
          for (let j = 0; j < frameFields.length; j++) {
            if (j === methodAt) methods.push(pc.id());
            else pc.skipInt(8);
          }
        }
        continue;
      }
      for (let i = 0; i < count; i++) {
        let method: JfrId | null = null;
        for (let j = 0; j < frameFields.length; j++) {
          if (j === methodAt) method = pc.id();
          else skipField(pc, frameFields[j]!, 0);
        }
        if (method !== null) methods.push(method);
      }
    }
    return methods;
  }

  private readEvents(onEvent: (event: JfrEvent) => void): void {
    const c: JfrCursor = this.c;
    const plans = new Map<number, EventPlan>();
    for (const cls of this.meta.byId.values()) {
      const kind = EVENT_CLASSES[cls.name];
      if (kind) plans.set(cls.id, { kind, cls, slots: this.slotsOf(kind, cls) });
    }
    const event: JfrEvent = {
      kind: 'execution',
      stack: -1,
      state: null,
      contextId: 0,
      spanName: 0,
      spanId: 0,
      value: 0,
      settingName: '',
      settingValue: '',
    };
    let pos = this.start + CHUNK_HEADER_BYTES;
    while (pos < this.end) {
      c.pos = pos;
      c.end = this.end;
      const size = c.int();
      if (size === 0 || pos + size > this.end) c.fail(`an event size within the chunk, found ${size}`, pos);
      c.end = pos + size;
      const typeId = c.long();
      const plan = typeof typeId === 'number' ? plans.get(typeId) : undefined;
      if (plan) {
        this.readEvent(plan, event);
        onEvent(event);
      }
      pos += size;
    }
  }

  /** Field slots of an event class; a field is read only with the type grafana/jfr-parser binds it with. */
  private slotsOf(kind: JfrEventKind, cls: JfrClass): Int8Array {
    const slots = new Int8Array(cls.fields.length).fill(Slot.None);
    const typeName = (f: JfrField): string => this.meta.byId.get(f.typeId)?.name ?? '';
    const isLong = (f: JfrField): boolean => !f.constantPool && !f.array && typeName(f) === 'long';
    cls.fields.forEach((f, i) => {
      if (f.array) return;
      if (f.name === 'stackTrace' && f.constantPool && typeName(f) === 'jdk.types.StackTrace') slots[i] = Slot.Stack;
      else if (f.name === 'state' && f.constantPool && typeName(f) === 'jdk.types.ThreadState') slots[i] = Slot.State;
      else if (f.name === 'contextId' && isLong(f)) slots[i] = Slot.Context;
      else if (f.name === 'spanName' && isLong(f)) slots[i] = Slot.SpanName;
      else if (f.name === 'spanId' && isLong(f)) slots[i] = Slot.SpanId;
      else if (f.name === VALUE_FIELD[kind] && !f.constantPool && (typeName(f) === 'long' || typeName(f) === 'int'))
        slots[i] = Slot.Value;
      else if (
        kind === 'setting' &&
        !f.constantPool &&
        typeName(f) === 'java.lang.String' &&
        (f.name === 'name' || f.name === 'value')
      ) {
        slots[i] = f.name === 'name' ? Slot.SettingName : Slot.SettingValue;
      }
    });
    return slots;
  }

  private readEvent(plan: EventPlan, event: JfrEvent): void {
    const c: JfrCursor = this.c;
    event.kind = plan.kind;
    event.stack = -1;
    event.state = null;
    event.contextId = 0;
    event.spanName = 0;
    event.spanId = 0;
    event.value = 0;
    event.settingName = '';
    event.settingValue = '';
    const fields = plan.cls.fields;
    // Trailing fields the plan does not need are left unread: the event size says where the next one starts.
    let last = plan.slots.length - 1;
    while (last >= 0 && plan.slots[last] === Slot.None) last--;
    for (let i = 0; i <= last; i++) {
      const slot = plan.slots[i]!;
      const field = fields[i]!;
      switch (slot) {
        case Slot.None:
          skipField(c, field, 0);
          break;
        case Slot.Stack:
          event.stack = this.stack(c.id());
          break;
        case Slot.State:
          event.state = this.threadState(c.id());
          break;
        case Slot.Context:
          event.contextId = numberOf(c.long());
          break;
        case Slot.SpanId:
          event.spanId = c.long();
          break;
        case Slot.SpanName:
          event.spanName = numberOf(c.long());
          break;
        case Slot.Value:
          event.value = c.safeLong(`${field.name} below 2^53`);
          break;
        case Slot.SettingName:
          event.settingName = c.string(this.lookupString);
          break;
        case Slot.SettingValue:
          event.settingValue = c.string(this.lookupString);
          break;
      }
    }
  }

  /** The recording-wide index of a chunk's stack trace, decoding it on first use; -1 when it is not in the pools. */
  private stack(id: JfrId): number {
    const known = this.stackIndex.get(id);
    if (known !== undefined) return known;
    const methods = this.stackMethods.get(id);
    let index = -1;
    if (methods !== undefined) {
      index = this.recording.stacks.length;
      this.recording.stacks.push(this.namesOf(methods));
    }
    this.stackIndex.set(id, index);
    return index;
  }

  /** Function-name ids of a stack's methods; frames whose method or class is not in the pools are dropped. */
  private namesOf(methods: readonly JfrId[]): Int32Array {
    const nodes = new Int32Array(methods.length);
    let n = 0;
    for (const m of methods) {
      const node = this.method(m);
      if (node >= 0) nodes[n++] = node;
    }
    return n === nodes.length ? nodes : nodes.slice(0, n);
  }

  /**
   * The function-name id of a method, `class.method`; -1 when the method or its class is not in the pools (such
   * frames are dropped, as grafana/jfr-parser drops them). A class or method symbol that is missing reads "".
   */
  private method(id: JfrId): number {
    const known = this.methodName.get(id);
    if (known !== undefined) return known;
    const offset = this.pools.get(this.types.method.id)?.get(id);
    let node = -1;
    if (offset !== undefined) {
      const refs = this.readRefs(
        offset,
        this.types.method,
        ['type', this.types.cls.id],
        ['name', this.types.symbol.id],
      );
      const className = refs[0] === null ? null : this.className(refs[0]!);
      if (className !== null) node = this.intern(`${className}.${refs[1] === null ? '' : this.symbol(refs[1]!)}`);
    }
    this.methodName.set(id, node);
    return node;
  }

  private className(id: JfrId): string | null {
    const known = this.classNames.get(id);
    if (known !== undefined) return known;
    const offset = this.pools.get(this.types.cls.id)?.get(id);
    let name: string | null = null;
    if (offset !== undefined) {
      const [symbol] = this.readRefs(offset, this.types.cls, ['name', this.types.symbol.id]);
      name = symbol === null || symbol === undefined ? '' : this.symbol(symbol);
    }
    this.classNames.set(id, name);
    return name;
  }

  private symbol(id: JfrId): string {
    const known = this.symbols.get(id);
    if (known !== undefined) return known;
    const offset = this.pools.get(this.types.symbol.id)?.get(id);
    let text = '';
    if (offset !== undefined) text = stableSymbol(this.readStringField(offset, this.types.symbol, 'string'));
    this.symbols.set(id, text);
    return text;
  }

  private threadState(id: JfrId): string | null {
    const known = this.states.get(id);
    if (known !== undefined) return known;
    const offset = this.pools.get(this.types.threadState.id)?.get(id);
    const name = offset === undefined ? null : this.readStringField(offset, this.types.threadState, 'name');
    this.states.set(id, name);
    return name;
  }

  private readonly lookupString = (id: JfrId): string => {
    const offset = this.pools.get(this.types.string.id)?.get(id);
    if (offset === undefined) return '';
    const sc = new JfrCursor(this.c.buf);
    sc.compressed = this.c.compressed;
    sc.pos = offset;
    sc.end = this.end;
    return sc.string();
  };

  /** Pool references of an entry, by field name and expected type; null where the field is absent. */
  private readRefs(offset: number, cls: JfrClass, ...wanted: [string, number][]): (JfrId | null)[] {
    const pc = this.poolCursor;
    pc.pos = offset;
    pc.end = this.end;
    const out: (JfrId | null)[] = wanted.map(() => null);
    for (const f of cls.fields) {
      const w =
        f.constantPool && !f.array ? wanted.findIndex(([name, type]) => name === f.name && type === f.typeId) : -1;
      if (w >= 0) out[w] = pc.id();
      else skipField(pc, f, 0);
    }
    return out;
  }

  private readStringField(offset: number, cls: JfrClass, name: string): string {
    const pc = this.poolCursor;
    pc.pos = offset;
    pc.end = this.end;
    for (const f of cls.fields) {
      if (f.name === name && !f.constantPool && !f.array && f.typeId === this.types.string.id)
        return pc.string(this.lookupString);
      skipField(pc, f, 0);
    }
    return '';
  }

  private intern(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.recording.names.length;
      this.recording.names.push(name);
      this.nameIds.set(name, id);
    }
    return id;
  }
}

function numberOf(v: number | bigint): number {
  return typeof v === 'number' ? v : Number(BigInt.asIntN(64, v));
}

function skipField(c: JfrCursor, field: JfrField, depth: number): void {
  const count = field.array ? c.int() : 1;
  if (field.array) c.checkCount(count, `elements of array field ${field.name}`);
  if (field.constantPool) {
    for (let i = 0; i < count; i++) c.skipInt(8);
    return;
  }
  const cls = field.type;
  if (!cls) c.fail(`the type of field ${field.name} (${field.typeId}) in the metadata`);
  for (let i = 0; i < count; i++) skipObject(c, cls, depth);
}

/** Skips one value of a class: a primitive by its width, a string, or an inline object field by field. */
function skipObject(c: JfrCursor, cls: JfrClass, depth: number): void {
  switch (cls.kind) {
    case ValueKind.Byte:
      c.skip(1);
      return;
    case ValueKind.Short:
      c.skipInt(2);
      return;
    case ValueKind.Int:
      c.skipInt(4);
      return;
    case ValueKind.Long:
      c.skipInt(8);
      return;
    case ValueKind.Float:
      c.skip(4);
      return;
    case ValueKind.Double:
      c.skip(8);
      return;
    case ValueKind.String:
      c.string();
      return;
    case ValueKind.Object:
      if (cls.varintFields >= 0 && c.compressed) {
        for (let i = cls.varintFields; i > 0; i--) c.skipInt(8);
        return;
      }
      if (depth >= MAX_VALUE_DEPTH) c.fail(`inline objects nested at most ${MAX_VALUE_DEPTH} deep (class ${cls.name})`);
      for (const f of cls.fields) skipField(c, f, depth + 1);
  }
}
