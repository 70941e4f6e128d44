import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/**
 * Child process of the profile bench, so that each measurement has its own peak RSS. Loads only the profile engine
 * (and, for `top`, the `top` command's renderer): not the rest of the CLI, Nest or TypeORM.
 *   top FILE            what `flamebill top FILE --json` does (read, fold, render); prints the JSON
 *   fold FILE           foldProfile on the inflated bytes: one cold call, then 5 warm ones; prints
 *                       {coldMs, warmMs (median), warmCpuMs (median), runs, samples, type, unit}
 *   pprof-format FILE   pprof-format's Profile.decode on the inflated bytes; prints {coldMs, samples}
 */
async function main(): Promise<void> {
  const [mode, file] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-child top|fold|pprof-format FILE');
  if (mode === 'top') {
    // Imported here, not at the top, so that `top` loads nothing the CLI command would not.
    const { runTop } = await import('../../src/cli/top.command.js');
    process.stdout.write(await runTop(file, { json: true }));
    return;
  }
  const bytes = readFileSync(file);
  const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  if (mode === 'fold') {
    const { foldProfile } = await import('../../src/domain/profile/index.js');
    const runs = 5;
    let t0 = performance.now();
    const fold = foldProfile(raw);
    const coldMs = performance.now() - t0;
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c0 = process.cpuUsage();
      t0 = performance.now();
      foldProfile(raw);
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const { type, unit } = fold.sampleType;
    process.stdout.write(
      `${JSON.stringify({ coldMs, warmMs: median(wall), warmCpuMs: median(cpu), runs, samples: fold.sampleCount, type, unit })}\n`,
    );
  } else if (mode === 'pprof-format') {
    const { Profile } = await import('pprof-format');
    const t0 = performance.now();
    const samples = Profile.decode(raw).sample.length;
    process.stdout.write(`${JSON.stringify({ coldMs: performance.now() - t0, samples })}\n`);
  } else throw new Error(`unknown mode ${mode}`);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
