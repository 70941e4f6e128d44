import { NameStackFolder } from './name-stack-fold';
import { ProfileDecodeError } from './profile-decode.error';
import type { Fold, FoldOptions, ValueType } from './profile.types';

/** Speedscope units -> our sample type and the factor that makes values integers (time in nanoseconds). */
const UNITS: Record<string, { type: ValueType; factor: number }> = {
  none: { type: { type: 'samples', unit: 'count' }, factor: 1 },
  nanoseconds: { type: { type: 'time', unit: 'nanoseconds' }, factor: 1 },
  microseconds: { type: { type: 'time', unit: 'nanoseconds' }, factor: 1e3 },
  milliseconds: { type: { type: 'time', unit: 'nanoseconds' }, factor: 1e6 },
  seconds: { type: { type: 'time', unit: 'nanoseconds' }, factor: 1e9 },
  bytes: { type: { type: 'space', unit: 'bytes' }, factor: 1 },
};

interface Frame {
  name: string;
}

/**
 * Folds a speedscope file (https://www.speedscope.app/file-format-schema.json), sampled and evented profiles.
 * Time units become integer nanoseconds (`time/nanoseconds`, rounded to the nanosecond), `none` is `samples/count`,
 * `bytes` is `space/bytes`. All profiles of the chosen type are folded together (a file holds one per thread);
 * the default type is the first profile's. Sampled stacks are root first; evented profiles attribute the time
 * between consecutive events to the stack open in between.
 */
export function foldSpeedscope(
  json: Record<string, unknown>,
  options: FoldOptions = {},
  folder: NameStackFolder = new NameStackFolder(options),
): Fold {
  const frames = (json['shared'] as { frames?: unknown } | undefined)?.frames;
  if (!Array.isArray(frames)) throw new ProfileDecodeError('speedscope', 'expected "shared.frames" to be an array');
  const profiles = json['profiles'];
  if (!Array.isArray(profiles) || profiles.length === 0)
    throw new ProfileDecodeError('speedscope', 'expected a non-empty "profiles" array');
  const units = profiles.map((p: { unit?: unknown }, i) => unitOf(p?.unit, i));
  const sampleTypes = distinctTypes(units.map((u) => u.type));
  const chosen = chooseType(sampleTypes, options.sampleType);
  const names = frames.map((f: Frame, i) => {
    if (typeof f?.name !== 'string')
      throw new ProfileDecodeError('speedscope', `expected shared.frames[${i}].name to be a string`);
    return folder.node(f.name);
  });
  profiles.forEach((p: Record<string, unknown>, i) => {
    const unit = units[i]!;
    if (!sameType(unit.type, chosen)) return;
    if (p['type'] === 'sampled') foldSampled(p, i, unit.factor, names, folder);
    else if (p['type'] === 'evented') foldEvented(p, i, unit.factor, names, folder);
    else
      throw new ProfileDecodeError(
        'speedscope',
        `expected profiles[${i}].type to be "sampled" or "evented", found ${JSON.stringify(p?.['type'])}`,
      );
  });
  return folder.fold('speedscope', chosen, sampleTypes);
}

function foldSampled(
  p: Record<string, unknown>,
  i: number,
  factor: number,
  names: number[],
  folder: NameStackFolder,
): void {
  const samples = p['samples'];
  const weights = p['weights'];
  if (!Array.isArray(samples) || !Array.isArray(weights) || samples.length !== weights.length) {
    throw new ProfileDecodeError(
      'speedscope',
      `expected profiles[${i}] to have "samples" and "weights" arrays of equal length`,
    );
  }
  let ids = new Int32Array(64);
  samples.forEach((stack: unknown, s) => {
    if (!Array.isArray(stack))
      throw new ProfileDecodeError(
        'speedscope',
        `expected profiles[${i}].samples[${s}] to be an array of frame indices`,
      );
    if (stack.length > ids.length) ids = new Int32Array(Math.max(stack.length, ids.length * 2));
    stack.forEach((f: unknown, k) => (ids[k] = frameNode(names, f, `profiles[${i}].samples[${s}][${k}]`)));
    folder.addRootFirst(ids, stack.length, toInteger(weights[s], factor, `profiles[${i}].weights[${s}]`));
    folder.sampleCount++;
  });
}

function foldEvented(
  p: Record<string, unknown>,
  i: number,
  factor: number,
  names: number[],
  folder: NameStackFolder,
): void {
  const events = p['events'];
  if (!Array.isArray(events))
    throw new ProfileDecodeError('speedscope', `expected profiles[${i}].events to be an array`);
  const stack: number[] = [];
  const frames: number[] = [];
  let last = 0;
  events.forEach((e: { type?: unknown; at?: unknown; frame?: unknown }, k) => {
    const where = `profiles[${i}].events[${k}]`;
    const at = toInteger(e?.at, factor, `${where}.at`);
    if (k > 0 && at < last)
      throw new ProfileDecodeError('speedscope', `expected ${where}.at to be no earlier than the previous event`);
    if (stack.length > 0 && at > last) {
      folder.addRootFirst(stack, stack.length, at - last);
      folder.sampleCount++;
    }
    last = at;
    const node = frameNode(names, e.frame, `${where}.frame`);
    if (e.type === 'O') {
      stack.push(node);
      frames.push(e.frame as number);
    } else if (e.type === 'C') {
      if (frames.pop() !== e.frame)
        throw new ProfileDecodeError(
          'speedscope',
          `${where} closes frame ${String(e.frame)}, which is not the innermost open frame`,
        );
      stack.pop();
    } else throw new ProfileDecodeError('speedscope', `expected ${where}.type to be "O" or "C"`);
  });
  if (stack.length > 0)
    throw new ProfileDecodeError('speedscope', `profiles[${i}] ends with ${stack.length} frames still open`);
}

function frameNode(names: number[], f: unknown, where: string): number {
  if (!Number.isInteger(f) || (f as number) < 0 || (f as number) >= names.length) {
    throw new ProfileDecodeError(
      'speedscope',
      `expected ${where} to be a frame index below ${names.length}, found ${JSON.stringify(f)}`,
    );
  }
  return names[f as number]!;
}

/** Scales a weight to an integer of the target unit (rounded to the nanosecond for time). */
function toInteger(v: unknown, factor: number, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ProfileDecodeError('speedscope', `expected ${where} to be a number`);
  const scaled = Math.round(v * factor);
  if (!Number.isSafeInteger(scaled)) throw new ProfileDecodeError('speedscope', `${where} is too large to be exact`);
  return scaled;
}

function unitOf(unit: unknown, i: number): { type: ValueType; factor: number } {
  const u = typeof unit === 'string' ? UNITS[unit] : undefined;
  if (!u)
    throw new ProfileDecodeError(
      'speedscope',
      `expected profiles[${i}].unit to be one of ${Object.keys(UNITS).join(', ')}, found ${JSON.stringify(unit)}`,
    );
  return u;
}

function distinctTypes(types: ValueType[]): ValueType[] {
  return types.filter((t, i) => types.findIndex((u) => sameType(u, t)) === i);
}

function sameType(a: ValueType, b: ValueType): boolean {
  return a.type === b.type && a.unit === b.unit;
}

function chooseType(types: ValueType[], wanted: string | undefined): ValueType {
  if (wanted === undefined || wanted === '') return types[0]!;
  const found = types.find((t, i) => t.type === wanted || `${t.type}/${t.unit}` === wanted || String(i) === wanted);
  if (found) return found;
  throw new ProfileDecodeError(
    'speedscope',
    `sample type "${wanted}" is not in the profile; it has: ${types.map((t) => `${t.type}/${t.unit}`).join(', ')}`,
  );
}
