import { ProfileDecodeError, type DecodeErrorLocation } from '../profile-decode.error';
import type { ValueType } from '../profile.types';
import { goParseUint } from './go-text';

const HEX_NUMBER = /0x[0-9a-f]+/g;

/**
 * The part of pprof's Profile that its legacy parsers fill and `go tool pprof -top` reads: sample types, values
 * (int64, as bigint), stacks of locations (leaf first), and per location an address, a mapping and optionally a
 * function name (legacy Java profiles carry symbols; the others are address-only).
 */
export interface LegacyProfile {
  /** Which legacy parser read it (for messages and docs). */
  readonly kind: LegacyKind;
  readonly sampleTypes: ValueType[];
  periodType: ValueType | null;
  period: bigint;
  durationNanos: bigint;
  samples: LegacySample[];
  mappings: LegacyMapping[];
}

export type LegacyKind =
  'cpu' | 'java-cpu' | 'heap' | 'contention' | 'java-heap' | 'java-contention' | 'count' | 'thread';

export interface LegacySample {
  values: bigint[];
  locations: LegacyLocation[];
}

export interface LegacyLocation {
  address: bigint;
  mapping: LegacyMapping | null;
  /** Function name of the single Line (Java), or null for an address-only location. */
  functionName: string | null;
}

export interface LegacyMapping {
  start: bigint;
  limit: bigint;
  offset: bigint;
  file: string;
  buildId: string;
}

/**
 * Thrown by a legacy parser when the input is not its format (pprof's errUnrecognized): the next parser is tried.
 * Any other error stops the parse, as in pprof.
 */
export class LegacyUnrecognized extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

/** A malformed legacy profile: a ProfileDecodeError naming the legacy format. */
export function legacyError(kind: string, detail: string, where: DecodeErrorLocation = {}): ProfileDecodeError {
  return new ProfileDecodeError('pprof', `legacy ${kind} profile: ${detail}`, where);
}

/** Interns locations by address within one parse (pprof's `locs` map). */
export class LocationTable {
  readonly byAddress = new Map<bigint, LegacyLocation>();

  get(address: bigint): LegacyLocation {
    let loc = this.byAddress.get(address);
    if (!loc) {
      loc = { address, mapping: null, functionName: null };
      this.byAddress.set(address, loc);
    }
    return loc;
  }
}

/** Go's `addr--` on a uint64. */
export function minusOne(address: bigint): bigint {
  return BigInt.asUintN(64, address - 1n);
}

/** The locations referenced by samples, in order of first reference (pprof's remapLocationIDs). */
export function referencedLocations(samples: readonly LegacySample[]): LegacyLocation[] {
  const seen = new Set<LegacyLocation>();
  const out: LegacyLocation[] = [];
  for (const s of samples) {
    for (const l of s.locations) {
      if (seen.has(l)) continue;
      seen.add(l);
      out.push(l);
    }
  }
  return out;
}

/** pprof's CheckValid, as far as legacy parsers can violate it: one value per sample type. */
export function checkValid(p: LegacyProfile): void {
  if (p.sampleTypes.length === 0 && p.samples.length > 0) {
    throw legacyError(p.kind, 'malformed profile: missing sample type information');
  }
  for (const s of p.samples) {
    if (s.values.length !== p.sampleTypes.length) {
      throw legacyError(
        p.kind,
        `malformed profile: mismatch: sample has ${s.values.length} values vs. ${p.sampleTypes.length} types`,
      );
    }
  }
}

/** pprof's parseHexAddresses: every `0x[0-9a-f]+` in the text; one past 64 bits makes the sample malformed. */
export function parseHexAddresses(text: string, kind: string, where: DecodeErrorLocation): bigint[] {
  const out: bigint[] = [];
  for (const hex of text.match(HEX_NUMBER) ?? []) {
    const v = goParseUint(hex, 0);
    if (v === null) throw legacyError(kind, `malformed sample: failed to parse as hex 64-bit number: ${hex}`, where);
    out.push(v);
  }
  return out;
}
