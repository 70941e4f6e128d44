import { runIngestLoad } from '../ingest-load';
import { pushBodies } from './push-bodies';

/**
 * The load generator as its own process, so it does not share an event loop with the server it measures:
 *   ingest-load-child URL SECONDS CONCURRENCY BASE_FROM FILE...
 * Prints one JSON line: the report's figures, the number of 200 answers that said `stored`, the sum of their
 * `cpuNanoseconds`, and the distinct ids they returned.
 */
async function main(): Promise<void> {
  const [url, seconds, concurrency, baseFrom, ...files] = process.argv.slice(2);
  if (!url || !seconds || !concurrency || !baseFrom || files.length === 0)
    throw new Error('usage: ingest-load-child URL SECONDS CONCURRENCY BASE_FROM FILE...');
  const report = await runIngestLoad({
    baseUrl: url,
    bodies: pushBodies(files, Number(baseFrom)),
    concurrency: Number(concurrency),
    durationMs: Number(seconds) * 1000,
    maxRequests: 10_000_000,
    // FLAMEBILL_BENCH_RATE: pushes per second at most (a fleet's rate), inherited from the bench's environment.
    ...(process.env['FLAMEBILL_BENCH_RATE'] ? { ratePerSecond: Number(process.env['FLAMEBILL_BENCH_RATE']) } : {}),
  });
  const stored = report.results.filter((r) => r.status === 200 && r.answer.status === 'stored');
  const { results, ...figures } = report;
  process.stdout.write(
    `${JSON.stringify({
      ...figures,
      requests: results.length,
      stored: stored.length,
      storedIds: new Set(stored.map((r) => String(r.answer.id))).size,
      storedCpu: stored.reduce((sum, r) => sum + BigInt(String(r.answer.cpuNanoseconds)), 0n).toString(),
      otherAnswers: results.filter((r) => r.status === 200 && r.answer.status !== 'stored').length,
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
