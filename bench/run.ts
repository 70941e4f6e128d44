import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run bench [FILTER]`: runs every `bench/*.bench.ts` (compiled to dist/bench/*.bench.js) whose name contains
 * FILTER. A bench module exports `run(): Promise<void>` and prints its own figures; adding a file is all it takes.
 */
async function main(): Promise<void> {
  const filter = process.argv[2] ?? '';
  const benches = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js') && f.includes(filter))
    .sort();
  if (benches.length === 0) throw new Error(`no bench matches "${filter}" in ${__dirname}`);
  for (const file of benches) {
    process.stdout.write(`\n=== ${file.replace(/\.js$/, '.ts')} ===\n`);
    const mod = (await import(join(__dirname, file))) as { run?: () => Promise<void> };
    if (typeof mod.run !== 'function') throw new Error(`${file} does not export run()`);
    await mod.run();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
