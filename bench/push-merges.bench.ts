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
import { migratedBenchDatabase } from './support/bench-database';

const HOUR = 3_600_000;
const SETTINGS: AttributionSettings = {
  ...priceSettingsSchema.parse({}),
  labels: { keys: ['endpoint', 'version'], maxValuesPerKey: 100 },
};
const PUSHES = Number(process.env['FLAMEBILL_BENCH_PUSHES'] ?? 10_000);
/** Scheduled attribution during the window: every this many pushes (an attribute run every 5 min of a 1-hour window). */
const EVERY = Number(process.env['FLAMEBILL_BENCH_ATTRIBUTE_EVERY'] ?? Math.ceil(PUSHES / 12));

/**
 * `npm run bench -- push-merges`: a window holding PUSHES pushes of one service (the real checkout demo profile, each
 * push its own digest) against a window holding one push of the same total, on the real schema. Prints the time of
 * (a) attributing the one-push window, (b) the last attribution of the many-push window attributed every EVERY pushes
 * as the schedule does while pushes arrive (it reads the merge and the last EVERY pushes), (c) attributing all of them
 * at once (the first attribution of a window reads every push once), with the ratios (b)/(a) and (c)/(a).
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
    const attributeMs = async (start: Date): Promise<number> => {
      const t = performance.now();
      await db.transaction((tx) => service.attributeWindow({ start, end: new Date(start.getTime() + HOUR) }, tx));
      return performance.now() - t;
    };
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
    // (b) attributed as the schedule would while the pushes arrive.
    let last = 0;
    for (let done = 0; done < PUSHES; done += EVERY) {
      await insert(incremental, done, Math.min(PUSHES, done + EVERY));
      last = await attributeMs(incremental);
    }
    // (c) every push read at once.
    await insert(once, 0, PUSHES);
    const c = await attributeMs(once);
    const load = os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
    process.stdout.write(
      [
        `pushes ${PUSHES}, attributed every ${EVERY} (load average ${load})`,
        `(a) one push:                          ${a.toFixed(0)} ms`,
        `(b) ${PUSHES} pushes, last attribution:   ${last.toFixed(0)} ms  ratio ${(last / a).toFixed(2)} (target <= 2)`,
        `(c) ${PUSHES} pushes read at once:        ${c.toFixed(0)} ms  ratio ${(c / a).toFixed(2)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await close();
  }
}
