import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { runTop } from '../../src/cli/top.command';
import { foldProfile } from '../../src/domain/profile';

/**
 * Child process of the profile bench, so that each measurement has its own peak RSS:
 *   top FILE            what `flamebill top FILE --json` does (read, fold, render), without loading the other CLI commands
 *   fold FILE           foldProfile on the inflated bytes; prints {ms, inflatedBytes, samples}
 *   pprof-format FILE   pprof-format's Profile.decode on the inflated bytes; prints {ms, inflatedBytes}
 */
async function main(): Promise<void> {
  const [mode, file] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-child top|fold|pprof-format FILE');
  if (mode === 'top') {
    const out = await runTop(file, { json: true });
    process.stdout.write(`${JSON.stringify({ outputBytes: out.length })}\n`);
    return;
  }
  const bytes = readFileSync(file);
  const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  const t0 = performance.now();
  let samples = 0;
  if (mode === 'fold') samples = foldProfile(raw).sampleCount;
  else if (mode === 'pprof-format') samples = Profile.decode(raw).sample.length;
  else throw new Error(`unknown mode ${mode}`);
  const ms = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ ms, inflatedBytes: raw.length, samples })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
