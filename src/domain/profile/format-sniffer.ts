import type { ProfileFormat } from './profile.types';

const SNIFF_BYTES = 4096;

/** What the first bytes of an (uncompressed) input look like. */
export type SniffedKind = { kind: 'json' } | { kind: 'text' } | { kind: 'binary' };

/**
 * Tells JSON and text from binary by the first 4 KiB: valid UTF-8 without control characters other than
 * tab/CR/LF is text, text starting with `{` is JSON; anything else is binary (pprof protobuf is never valid text:
 * its first byte is a field tag below 0x80 followed by binary lengths).
 */
export function sniffKind(bytes: Uint8Array): SniffedKind {
  const head = bytes.subarray(0, SNIFF_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    return { kind: 'binary' };
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) return { kind: 'binary' };
  }
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (start === '') return bytes.length === 0 ? { kind: 'binary' } : { kind: 'text' };
  return start.startsWith('{') ? { kind: 'json' } : { kind: 'text' };
}

/** JSON profile formats told apart by their shape. */
export function jsonFormat(json: unknown): ProfileFormat | null {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const o = json as Record<string, unknown>;
  if (typeof o['$schema'] === 'string' && o['$schema'].includes('speedscope')) return 'speedscope';
  if ('shared' in o && 'profiles' in o) return 'speedscope';
  if (Array.isArray(o['nodes'])) return 'cpuprofile';
  if (typeof o['head'] === 'object' && o['head'] !== null && 'samples' in o) return 'cpuprofile';
  return null;
}
