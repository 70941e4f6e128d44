import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startProgress } from '../../src/cli/progress';

/** A stream that records what is written, posing as a terminal or not. */
function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text(): string } {
  let written = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream & { text(): string };
  Object.assign(stream, {
    isTTY,
    columns: 120,
    rows: 40,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
    text: () => written,
  });
  return stream;
}

afterEach(() => vi.unstubAllEnvs());

describe('startProgress', () => {
  it('draws a bar with the label and counts on a terminal', () => {
    vi.stubEnv('CI', '');
    const stream = fakeStream(true);
    const progress = startProgress('profiles', 10, stream);
    progress.increment(3, 'checkout');
    progress.stop();
    expect(stream.text()).toContain('profiles [');
    expect(stream.text()).toContain('3/10');
    expect(stream.text()).toContain('checkout');
  });

  it('writes nothing when the stream is not a terminal, or in CI', () => {
    const pipe = fakeStream(false);
    const quiet = startProgress('profiles', 10, pipe);
    quiet.increment(5);
    quiet.stop();
    expect(pipe.text()).toBe('');
    vi.stubEnv('CI', 'true');
    const terminalInCi = fakeStream(true);
    startProgress('profiles', 10, terminalInCi).stop();
    expect(terminalInCi.text()).toBe('');
  });
});
