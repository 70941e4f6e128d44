import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CatalogRepository } from '../src/catalog/catalog.repository';
import { AttributionRepository } from '../src/cost/attribution.repository';
import { AttributionService, type AttributionSettings } from '../src/cost/attribution.service';
import { FunctionDayRepository } from '../src/cost/function-day.repository';
import { FunctionDictionary } from '../src/cost/function-dictionary';
import { priceSettingsSchema } from '../src/domain/cost';
import { cpuNanoseconds, foldProfile, serializeFold } from '../src/domain/profile';
import { ProfileRepository, type NewProfileRow } from '../src/profiles/profile.repository';
import { PushCompactionService } from '../src/profiles/push-compaction.service';
import { migratedBenchDatabase } from './support/bench-database';

const HOUR = 3_600_000;
const SETTINGS: AttributionSettings = {
  ...priceSettingsSchema.parse({}),
  labels: { keys: ['endpoint', 'version'], maxValuesPerKey: 100 },
};
const PUSHES = Number(process.env['FLAMEBILL_BENCH_PUSHES'] ?? 10_000);
/** Scheduled attribution during the window: every this many pushes (an attribute run every 5 min of a 1-hour window). */
const EVERY = Number(process.env['FLAMEBILL_BENCH_ATTRIBUTE_EVERY'] ?? Math.ceil(PUSHES / 12));
/** Re-attributions of (a) and (d) whose median is printed too. */
const REPEAT = 9;
/** Compaction during the window (case d): every this many pushes. */
const COMPACT_EVERY = Number(process.env['FLAMEBILL_BENCH_COMPACT_EVERY'] ?? 830);

/**
 * `npm run bench -- push-merges`: a window holding PUSHES pushes of one service (the real checkout demo profile, each
 * push its own digest) against a window holding one push of the same total, on the real schema. Prints the time of
 * (a) attributing the one-push window, (b) the last attribution of the many-push window attributed every EVERY pushes
 * as the schedule does while pushes arrive (it reads the merge and the last EVERY pushes), (c) attributing all of them
 * at once (the first attribution of a window reads every push once), (d) attributing the window once after the job
 * `compact-pushes` merged its pushes every COMPACT_EVERY pushes as they arrived (it reads the merge and nothing else),
 * with the ratios to (a), and the time of one compaction step.
 */
export async function run(): Promise<void> {
  const file = path.join(__dirname, '..', '..', 'demo', 'profiles', 'checkout');
  const bytes = readFileSync(path.join(file, readdirSync(file).sort()[0]!));
  const fold = foldProfile(bytes, { labelKeys: SETTINGS.labels.keys });
  const cpu = cpuNanoseconds(fold)!;
  const { db, close } = await migratedBenchDatabase();
  try {
    const profiles = new ProfileRepository(db);
    const service = new AttributionService(
      profiles,
      new CatalogRepository(db),
      SETTINGS,
      new FunctionDictionary(db),
      new AttributionRepository(),
      new FunctionDayRepository(),
    );
    const row = (start: Date, i: number): NewProfileRow => ({
      source: 'push',
      service: 'checkout',
      profileType: 'cpu:nanoseconds',
      windowStart: start,
      windowEnd: new Date(start.getTime() + HOUR),
      digest: `bench-${start.getTime()}-${i}`,
      seriesLabels: {},
      byteSize: bytes.length,
      sampleCount: fold.sampleCount,
      cpuNanoseconds: cpu,
      wallOnly: false,
      fold: serializeFold(fold),
      raw: null,
    });
    /** Steps of the last attribution timed (`WindowAttributionResult.timings`), printed beside (a) and (d). */
    let laps: Readonly<Record<string, number>> = {};
    const attributeMs = async (start: Date): Promise<number> => {
      const t = performance.now();
      const result = await db.transaction((tx) =>
        service.attributeWindow({ start, end: new Date(start.getTime() + HOUR) }, tx),
      );
      laps = result.timings;
      return performance.now() - t;
    };
    const lapsOf = (l: Readonly<Record<string, number>>): string =>
      Object.entries(l)
        .filter(([, ms]) => ms > 0)
        .map(([step, ms]) => `${step} ${ms}`)
        .join(', ');
    const insert = async (start: Date, from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i += 500)
        await profiles.insertMany(Array.from({ length: Math.min(500, to - i) }, (_, k) => row(start, i + k)));
    };
    const w0 = new Date('2026-11-02T00:00:00Z');
    const one = new Date('2026-11-02T01:00:00Z');
    const incremental = new Date('2026-11-02T02:00:00Z');
    const once = new Date('2026-11-02T03:00:00Z');
    await insert(w0, 0, 1); // warms the function dictionary and the JIT
    await attributeMs(w0);
    // (a) one push: its fold's function values would be PUSHES times larger for the same total; the cost of reading
    // one fold does not depend on its values, so the one push of the real profile stands for it.
    await insert(one, 0, 1);
    const a = await attributeMs(one);
    const lapsA = laps;
    // (b) attributed as the schedule would while the pushes arrive.
    let last = 0;
    for (let done = 0; done < PUSHES; done += EVERY) {
      await insert(incremental, done, Math.min(PUSHES, done + EVERY));
      last = await attributeMs(incremental);
    }
    // (c) every push read at once.
    await insert(once, 0, PUSHES);
    const c = await attributeMs(once);
    // (d) compacted as the job would while the pushes arrive, attributed once at the end.
    const compacted = new Date('2026-11-02T04:00:00Z');
    const compaction = new PushCompactionService(profiles, SETTINGS);
    const steps: number[] = [];
    for (let done = 0; done < PUSHES; done += COMPACT_EVERY) {
      await insert(compacted, done, Math.min(PUSHES, done + COMPACT_EVERY));
      const t = performance.now();
      await compaction.compactWindow(compacted);
      steps.push(performance.now() - t);
    }
    const d = await attributeMs(compacted);
    const lapsD = laps;
    // Single attributions of ~10 ms are at the mercy of the machine's load: the median of re-attributions of (a)
    // and (d) (same reads, the facts already there) as well.
    const median = async (start: Date): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < REPEAT; i++) times.push(await attributeMs(start));
      return times.sort((x, y) => x - y)[Math.floor(REPEAT / 2)]!;
    };
    const aMedian = await median(one);
    const dMedian = await median(compacted);
    const load = os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
    process.stdout.write(
      [
        `pushes ${PUSHES}, attributed every ${EVERY} (load average ${load})`,
        `(a) one push:                          ${a.toFixed(0)} ms  (${lapsOf(lapsA)})`,
        `(b) ${PUSHES} pushes, last attribution:   ${last.toFixed(0)} ms  ratio ${(last / a).toFixed(2)} (target <= 2)`,
        `(c) ${PUSHES} pushes read at once:        ${c.toFixed(0)} ms  ratio ${(c / a).toFixed(2)}`,
        `(d) ${PUSHES} pushes compacted every ${COMPACT_EVERY}, then attributed: ${d.toFixed(0)} ms  ratio ${(d / a).toFixed(2)} (target <= 2)  (${lapsOf(lapsD)})`,
        `    median of ${REPEAT} re-attributions: (a) ${aMedian.toFixed(1)} ms, (d) ${dMedian.toFixed(1)} ms, ratio ${(dMedian / aMedian).toFixed(2)}`,
        `    compaction of ${COMPACT_EVERY} pushes: mean ${(steps.reduce((x, y) => x + y, 0) / steps.length).toFixed(0)} ms, max ${Math.max(...steps).toFixed(0)} ms (${steps.length} runs)`,
        '',
      ].join('\n'),
    );
  } finally {
    await close();
  }
}
