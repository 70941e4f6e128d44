import { ProfileDecodeError } from '../profile-decode.error';
import { ProtoCursor, WIRE_LEN, WIRE_VARINT } from '../proto-cursor';

/**
 * The `labels` part the Pyroscope Java agent sends with a JFR recording (pyroscope-java's `LabelsSnapshot`, also
 * `pprof/jfr_labels.proto` in grafana/jfr-parser): context id -> label key/value string ids, and the strings.
 * Events carry the context id their thread had (`contextId`) and a span name string id (`spanName`).
 *
 *   message Context { map<int64, int64> labels = 1; }
 *   message LabelsSnapshot { map<int64, Context> contexts = 1; map<int64, string> strings = 2; }
 */
export interface JfrLabels {
  /** Context id -> resolved labels (key -> value). */
  readonly contexts: ReadonlyMap<number, Readonly<Record<string, string>>>;
  readonly strings: ReadonlyMap<number, string>;
}

const utf8 = new TextDecoder('utf-8');

/** Decodes an (uncompressed) LabelsSnapshot; throws ProfileDecodeError (format `jfr`) on malformed bytes. */
export function decodeJfrLabels(bytes: Uint8Array): JfrLabels {
  try {
    return decode(bytes);
  } catch (err: unknown) {
    if (err instanceof ProfileDecodeError)
      throw new ProfileDecodeError('jfr', `labels part: ${err.detail}`, { offset: err.offset ?? undefined });
    throw err;
  }
}

function decode(bytes: Uint8Array): JfrLabels {
  const c = new ProtoCursor(bytes);
  c.reset(0, bytes.length);
  const rawContexts = new Map<number, [number, number][]>();
  const strings = new Map<number, string>();
  while (c.pos < c.end) {
    const tag = c.tag();
    if (tag === (1 << 3) + WIRE_LEN) {
      const [id, pairs] = readEntry(c, (cc) => readContext(cc), []);
      rawContexts.set(id, pairs);
    } else if (tag === (2 << 3) + WIRE_LEN) {
      const [id, text] = readEntry(c, (cc) => readString(cc), '');
      strings.set(id, text);
    } else c.skip(tag & 7);
  }
  const contexts = new Map<number, Record<string, string>>();
  for (const [id, pairs] of rawContexts) {
    const labels: Record<string, string> = {};
    for (const [k, v] of pairs) labels[strings.get(k) ?? ''] = strings.get(v) ?? '';
    contexts.set(id, labels);
  }
  return { contexts, strings };
}

/** A map entry `{ key = 1 (int64); value = 2 }`; the cursor is after the entry's tag. */
function readEntry<T>(c: ProtoCursor, readValue: (c: ProtoCursor) => T, empty: T): [number, T] {
  const end = c.lengthDelimitedEnd();
  const outer = c.end;
  c.end = end;
  let key = 0;
  let value = empty;
  while (c.pos < end) {
    const tag = c.tag();
    if (tag === (1 << 3) + WIRE_VARINT) key = c.safeVarint('a map key');
    else if (tag === (2 << 3) + WIRE_LEN) value = readValue(c);
    else c.skip(tag & 7);
  }
  c.end = outer;
  return [key, value];
}

function readContext(c: ProtoCursor): [number, number][] {
  const end = c.lengthDelimitedEnd();
  const outer = c.end;
  c.end = end;
  const pairs: [number, number][] = [];
  while (c.pos < end) {
    const tag = c.tag();
    if (tag === (1 << 3) + WIRE_LEN) {
      const entryEnd = c.lengthDelimitedEnd();
      const entryOuter = c.end;
      c.end = entryEnd;
      let k = 0;
      let v = 0;
      while (c.pos < entryEnd) {
        const t = c.tag();
        if (t === (1 << 3) + WIRE_VARINT) k = c.safeVarint('a label key id');
        else if (t === (2 << 3) + WIRE_VARINT) v = c.safeVarint('a label value id');
        else c.skip(t & 7);
      }
      c.end = entryOuter;
      pairs.push([k, v]);
    } else c.skip(tag & 7);
  }
  c.end = outer;
  return pairs;
}

function readString(c: ProtoCursor): string {
  const end = c.lengthDelimitedEnd();
  const text = utf8.decode(c.buf.subarray(c.pos, end));
  c.pos = end;
  return text;
}
