/**
 * Converts Pyroscope's `lines` format (one stack per line, `a;b;c`, each line one sample) to folded text
 * (`a;b;c 3`), so the profile engine's folded reader does the rest. Identical stacks are counted together;
 * blank lines are skipped. Line order of first appearance is kept so errors and output are stable.
 */
export function linesToFolded(body: Uint8Array): Uint8Array {
  const counts = new Map<string, number>();
  const text = new TextDecoder('utf-8').decode(body);
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  let out = '';
  for (const [stack, count] of counts) out += `${stack} ${count}\n`;
  return new TextEncoder().encode(out);
}
