import type { JfrCursor } from './jfr-cursor';

/** One field of a JFR class, from the chunk's metadata event. */
export interface JfrField {
  readonly name: string;
  readonly typeId: number;
  readonly constantPool: boolean;
  readonly array: boolean;
  /** The field's class, resolved once the whole metadata is read; null when the metadata lacks it. */
  type: JfrClass | null;
}

/** How a value of a class is laid out: a primitive (read by width), a string, or an object of fields. */
export const enum ValueKind {
  Object = 0,
  Byte = 1,
  Short = 2,
  Int = 3,
  Long = 4,
  Float = 5,
  Double = 6,
  String = 7,
}

/** A JFR class (event type, constant-pool type or value type) from the chunk's metadata. */
export interface JfrClass {
  readonly id: number;
  readonly name: string;
  readonly kind: ValueKind;
  readonly fields: readonly JfrField[];
  /**
   * With compressed integers, an object whose fields are all single varints (pool references, short, int, long:
   * e.g. jdk.types.StackFrame) is skipped as that many varints; -1 otherwise.
   */
  varintFields: number;
}

/** The classes of one chunk, by id and by name. */
export interface JfrMetadata {
  readonly byId: ReadonlyMap<number, JfrClass>;
  readonly byName: ReadonlyMap<string, JfrClass>;
}

const PRIMITIVES: Readonly<Record<string, ValueKind>> = {
  boolean: ValueKind.Byte,
  byte: ValueKind.Byte,
  short: ValueKind.Short,
  char: ValueKind.Short,
  int: ValueKind.Int,
  long: ValueKind.Long,
  float: ValueKind.Float,
  double: ValueKind.Double,
  'java.lang.String': ValueKind.String,
};

/** Metadata trees are 4 levels deep (root, metadata, class, field, annotation); more is corrupt input. */
const MAX_ELEMENT_DEPTH = 8;

interface Element {
  readonly name: string;
  readonly attributes: Map<string, string>;
  readonly children: Element[];
}

/**
 * Reads the metadata event at the cursor: a string table, then an element tree `root > metadata > class > field`.
 * Classes are keyed by their numeric id; a field's `class` attribute is its type id, `constantPool="true"` makes it
 * a pool reference and `dimension="1"` an array.
 */
export function readMetadata(c: JfrCursor): JfrMetadata {
  const start = c.pos;
  const size = c.int();
  if (size <= 0 || size > c.end - start) c.fail(`a metadata event size within the chunk, found ${size}`, start);
  c.end = start + size;
  c.long(); // event type (0)
  c.long(); // start ticks
  c.long(); // duration
  c.long(); // metadata id
  const count = c.int();
  c.checkCount(count, 'metadata strings');
  const strings = new Array<string>(count);
  for (let i = 0; i < count; i++) strings[i] = c.string();
  const root = readElement(c, strings, 0);
  if (root.name !== 'root') c.fail(`the metadata root element, found "${root.name}"`, start);
  const byId = new Map<number, JfrClass>();
  const byName = new Map<string, JfrClass>();
  for (const section of root.children) {
    if (section.name !== 'metadata') continue;
    for (const el of section.children) {
      if (el.name !== 'class') continue;
      const cls = toClass(el, c, start);
      byId.set(cls.id, cls);
      byName.set(cls.name, cls);
    }
  }
  // Resolved once here rather than looked up per value: skipping fields is most of what reading pools costs.
  for (const cls of byId.values()) for (const f of cls.fields) f.type = byId.get(f.typeId) ?? null;
  for (const cls of byId.values()) {
    const varints =
      cls.kind === ValueKind.Object && cls.fields.every((f) => !f.array && (f.constantPool || isVarint(f.type)));
    cls.varintFields = varints ? cls.fields.length : -1;
  }
  return { byId, byName };
}

function toClass(el: Element, c: JfrCursor, at: number): JfrClass {
  const id = Number(el.attributes.get('id'));
  const name = el.attributes.get('name') ?? '';
  if (!Number.isSafeInteger(id)) c.fail(`a numeric id for metadata class "${name}"`, at);
  const fields: JfrField[] = [];
  for (const f of el.children) {
    if (f.name !== 'field') continue;
    const typeId = Number(f.attributes.get('class'));
    if (!Number.isSafeInteger(typeId))
      c.fail(`a numeric type for field "${f.attributes.get('name') ?? ''}" of "${name}"`, at);
    fields.push({
      name: f.attributes.get('name') ?? '',
      typeId,
      constantPool: f.attributes.get('constantPool') === 'true',
      array: (f.attributes.get('dimension') ?? '0') !== '0',
      type: null,
    });
  }
  return { id, name, kind: PRIMITIVES[name] ?? ValueKind.Object, fields, varintFields: -1 };
}

function isVarint(type: JfrClass | null): boolean {
  return (
    type !== null && (type.kind === ValueKind.Short || type.kind === ValueKind.Int || type.kind === ValueKind.Long)
  );
}

function readElement(c: JfrCursor, strings: readonly string[], depth: number): Element {
  if (depth > MAX_ELEMENT_DEPTH) c.fail(`metadata elements nested at most ${MAX_ELEMENT_DEPTH} deep`);
  const name = stringAt(c, strings);
  const attributeCount = c.int();
  c.checkCount(attributeCount, 'metadata attributes');
  const attributes = new Map<string, string>();
  for (let i = 0; i < attributeCount; i++) {
    const key = stringAt(c, strings);
    attributes.set(key, stringAt(c, strings));
  }
  const childCount = c.int();
  c.checkCount(childCount, 'metadata children');
  const children: Element[] = [];
  for (let i = 0; i < childCount; i++) children.push(readElement(c, strings, depth + 1));
  return { name, attributes, children };
}

function stringAt(c: JfrCursor, strings: readonly string[]): string {
  const at = c.pos;
  const i = c.int();
  if (i >= strings.length) c.fail(`a metadata string index below ${strings.length}, found ${i}`, at);
  return strings[i]!;
}
