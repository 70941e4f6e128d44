import {
  Function as PFunction,
  Label,
  Line,
  Location,
  Mapping,
  Profile,
  Sample,
  StringTable,
  ValueType,
} from 'pprof-format';

/** A stack frame of a test profile: a function name, or several names for inlined frames (leaf first). */
export type TestFrame = string | readonly string[] | { readonly address: number; readonly mapping?: string };

export interface TestSample {
  /** Leaf first, as in pprof. */
  readonly stack: readonly TestFrame[];
  readonly values: readonly (number | bigint)[];
  readonly labels?: Readonly<Record<string, string>>;
}

export interface TestProfile {
  readonly sampleTypes: readonly [string, string][];
  readonly samples: readonly TestSample[];
  readonly defaultSampleType?: string;
  readonly periodType?: [string, string];
  readonly period?: number;
}

/**
 * Encodes a small profile with pprof-format (the object-model library, used here as the independent encoder).
 * Each distinct frame becomes one location; a string frame is one Line, an array several (inlined, leaf first),
 * an address frame has no Line (unsymbolized) and an optional mapping file.
 */
export function encodeTestProfile(p: TestProfile): Uint8Array {
  const strings = new StringTable();
  const functions = new Map<string, PFunction>();
  const mappings = new Map<string, Mapping>();
  const locations = new Map<string, Location>();
  const fn = (name: string) => {
    let f = functions.get(name);
    if (!f) functions.set(name, (f = new PFunction({ id: functions.size + 1, name: strings.dedup(name) })));
    return f;
  };
  const location = (frame: TestFrame) => {
    const key = JSON.stringify(frame);
    let loc = locations.get(key);
    if (loc) return loc;
    if (typeof frame === 'object' && 'address' in frame) {
      let mappingId = 0;
      if (frame.mapping !== undefined) {
        let m = mappings.get(frame.mapping);
        if (!m)
          mappings.set(
            frame.mapping,
            (m = new Mapping({
              id: mappings.size + 1,
              filename: strings.dedup(frame.mapping),
              memoryStart: 0,
              memoryLimit: 1 << 30,
            })),
          );
        mappingId = Number(m.id);
      }
      loc = new Location({ id: locations.size + 1, mappingId, address: frame.address });
    } else {
      const names = typeof frame === 'string' ? [frame] : frame;
      loc = new Location({ id: locations.size + 1, line: names.map((n) => new Line({ functionId: fn(n).id })) });
    }
    locations.set(key, loc);
    return loc;
  };
  const profile = new Profile({
    sampleType: p.sampleTypes.map(
      ([type, unit]) => new ValueType({ type: strings.dedup(type), unit: strings.dedup(unit) }),
    ),
    sample: p.samples.map(
      (s) =>
        new Sample({
          locationId: s.stack.map((f) => location(f).id),
          value: [...s.values],
          label: Object.entries(s.labels ?? {}).map(
            ([k, v]) => new Label({ key: strings.dedup(k), str: strings.dedup(v) }),
          ),
        }),
    ),
    ...(p.defaultSampleType ? { defaultSampleType: strings.dedup(p.defaultSampleType) } : {}),
    ...(p.periodType
      ? {
          periodType: new ValueType({ type: strings.dedup(p.periodType[0]), unit: strings.dedup(p.periodType[1]) }),
          period: p.period ?? 0,
        }
      : {}),
    stringTable: strings,
  });
  profile.function = [...functions.values()];
  profile.location = [...locations.values()];
  profile.mapping = [...mappings.values()];
  return profile.encode();
}

/** Protobuf wire writer for inputs too large for an object model (10^6 samples) or deliberately invalid. */
export class WireWriter {
  private buf = new Uint8Array(64);
  length = 0;

  varint(v: number): this {
    while (v >= 0x80) {
      this.byte((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    return this.byte(v);
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  bytesField(field: number, payload: Uint8Array): this {
    this.tag(field, 2).varint(payload.length);
    this.ensure(payload.length);
    this.buf.set(payload, this.length);
    this.length += payload.length;
    return this;
  }

  varintField(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  packed(field: number, values: readonly number[]): this {
    const inner = new WireWriter();
    values.forEach((v) => inner.varint(v));
    return this.bytesField(field, inner.bytes());
  }

  string(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  private byte(b: number): this {
    this.ensure(1);
    this.buf[this.length++] = b;
    return this;
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}
