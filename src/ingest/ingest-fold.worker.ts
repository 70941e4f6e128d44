import { move, transferableSymbol, valueSymbol } from 'piscina';
import { runFoldTask, type FoldTask, type FoldTaskResult } from './ingest-fold.task';

/**
 * Entry point of a fold worker thread (piscina task `foldTask`): runs `runFoldTask` and hands the serialized fold
 * back by transfer, not by copy. The body came in as a copy (the HTTP thread keeps it for `profiles.raw`).
 */
export function foldTask(task: FoldTask): FoldTaskResult {
  const result = runFoldTask(task);
  if (result.action !== 'store') return result;
  const fold = ownedBytes(result.serializedFold);
  const value: FoldTaskResult = { ...result, serializedFold: fold };
  return move({
    get [transferableSymbol]() {
      return [fold.buffer];
    },
    get [valueSymbol]() {
      return value;
    },
  }) as unknown as FoldTaskResult;
}

/** A view that owns its whole ArrayBuffer, so transferring the buffer moves no more than the fold. */
function ownedBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer)
    return bytes as Uint8Array<ArrayBuffer>;
  return bytes.slice();
}
