import { NameStackFolder } from './name-stack-fold';
import { ProfileDecodeError } from './profile-decode.error';
import type { Fold, FoldOptions, ValueType } from './profile.types';

const SAMPLES: ValueType = { type: 'samples', unit: 'count' };
const COUNT = /^[0-9]+$/;

/**
 * Folds collapsed stacks: one `root;caller;leaf COUNT` per line (async-profiler, perf + stackcollapse, py-spy,
 * Pyroscope's `folded`). The count is the last space-separated token, so frames may contain spaces. Blank lines are
 * skipped; anything else that is not `stack count` is an error naming the line. Values are samples/count.
 */
export function foldFolded(
  text: string,
  options: FoldOptions = {},
  folder: NameStackFolder = new NameStackFolder(options),
): Fold {
  checkSampleType(options.sampleType);
  let ids = new Int32Array(256);
  let lineNo = 0;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    lineNo++;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(pos, end - 1) : text.slice(pos, end);
    pos = end + 1;
    if (line.trim() === '') continue;
    const space = line.lastIndexOf(' ');
    const countText = space < 0 ? '' : line.slice(space + 1);
    if (space <= 0 || !COUNT.test(countText)) {
      throw new ProfileDecodeError(
        'folded',
        `expected "frame;frame;... COUNT" with a non-negative integer count, found ${JSON.stringify(line.slice(0, 80))}`,
        { line: lineNo },
      );
    }
    const count = countText.length > 15 ? BigInt(countText) : Number(countText);
    const frames = line.slice(0, space).split(';');
    if (frames.length > ids.length) ids = new Int32Array(Math.max(frames.length, ids.length * 2));
    for (let i = 0; i < frames.length; i++) ids[i] = folder.node(frames[i]!);
    folder.addRootFirst(ids, frames.length, count);
    folder.sampleCount++;
  }
  return folder.fold('folded', SAMPLES, [SAMPLES]);
}

function checkSampleType(wanted: string | undefined): void {
  if (wanted === undefined || wanted === '' || wanted === '0' || wanted === 'samples' || wanted === 'samples/count')
    return;
  throw new ProfileDecodeError('folded', `sample type "${wanted}" is not in the profile; it has: samples/count`);
}
