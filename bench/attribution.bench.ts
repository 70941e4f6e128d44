import type { DataSource } from 'typeorm';
import { CatalogRepository } from '../src/catalog/catalog.repository';
import { AttributionRepository } from '../src/cost/attribution.repository';
import { AttributionService, type AttributionSettings } from '../src/cost/attribution.service';
import { FunctionDayRepository } from '../src/cost/function-day.repository';
import { FunctionDictionary } from '../src/cost/function-dictionary';
import { LeaderboardRepository } from '../src/cost/leaderboard.repository';
import { LeaderboardService } from '../src/cost/leaderboard.service';
import { priceSettingsSchema } from '../src/domain/cost';
import { serializeFold, type Fold, type FunctionValue } from '../src/domain/profile';
import { ProfileRepository } from '../src/profiles/profile.repository';
import { migratedBenchDatabase } from './support/bench-database';
import { loadAverage, mib } from './support/measure';

/**
 * Attribution of synthetic fleets into the real schema: `--services N --functions N --hours N` (default
 * 1000 × 2000 × 168, a week of hourly windows; env FLAMEBILL_BENCH_SERVICES / _FUNCTIONS / _HOURS too).
 * Each window's profiles are inserted, attributed in one transaction (as the attribute job does), then deleted
 * (profiles are not what is measured here). Prints per-window times, rows and sizes of every fact table, and
 * each leaderboard query's time over the last day and over the whole period. DATABASE_URL or an embedded
 * PostgreSQL in a temporary directory.
 *
 * Synthetic folds: per service, 10% of functions are shared by every service (runtime, JSON, ...), the rest are
 * its own; flat values follow 1/rank; CPU per service-hour is 0.5 to 8 cores, varying by hour.
 */
export async function run(): Promise<void> {
  const scale = { services: arg('services', 1000), functions: arg('functions', 2000), hours: arg('hours', 168) };
  const out = process.stdout;
  out.write(
    `scale: ${scale.services} services × ${scale.functions} functions × ${scale.hours} hourly windows; load ${loadAverage()}\n`,
  );
  const { db, close } = await migratedBenchDatabase();
  try {
    await benchAttribution(db, scale);
    await benchLeaderboards(db, scale.hours);
    await printTables(db);
  } finally {
    await close();
  }
  out.write(`load average after: ${loadAverage()}\n`);
}

interface Scale {
  readonly services: number;
  readonly functions: number;
  readonly hours: number;
}

const START = Date.parse('2026-11-02T00:00:00Z'); // a Monday
const HOUR = 3_600_000;
const SETTINGS: AttributionSettings = {
  ...priceSettingsSchema.parse({
    prices: [
      { costPerCoreHour: '0.0316', effectiveFrom: '2026-01-01' },
      { costPerCoreHour: '0.05', effectiveFrom: '2026-01-01', scope: { service: 'svc-0007' } },
    ],
  }),
  labels: { keys: [] },
};

async function benchAttribution(db: DataSource, scale: Scale): Promise<void> {
  const t0 = performance.now();
  const folds = Array.from({ length: scale.services }, (_, s) => serializeFold(syntheticFold(s, scale.functions)));
  const foldBytes = folds.reduce((n, f) => n + f.length, 0);
  process.stdout.write(`generated ${scale.services} folds (${mib(foldBytes)} serialized) in ${seconds(t0)}\n`);
  const profiles = new ProfileRepository(db);
  const service = new AttributionService(
    profiles,
    new CatalogRepository(db),
    SETTINGS,
    new FunctionDictionary(db),
    new AttributionRepository(),
    new FunctionDayRepository(),
  );
  let insertMs = 0;
  let attributeMs = 0;
  const perWindow: number[] = [];
  const steps: Record<string, number> = {};
  for (let h = 0; h < scale.hours; h++) {
    const start = new Date(START + h * HOUR);
    const t1 = performance.now();
    await insertWindow(db, start, folds, scale);
    insertMs += performance.now() - t1;
    const t2 = performance.now();
    const result = await db.transaction((tx) =>
      service.attributeWindow({ start, end: new Date(start.getTime() + HOUR) }, tx),
    );
    const ms = performance.now() - t2;
    for (const [step, stepMs] of Object.entries(result.timings)) steps[step] = (steps[step] ?? 0) + stepMs;
    attributeMs += ms;
    perWindow.push(ms);
    await db.query(`DELETE FROM profiles WHERE window_start = $1`, [start]);
    if (h === 0 || (h + 1) % 24 === 0 || h === scale.hours - 1) {
      const detail = Object.entries(result.timings)
        .map(([step, stepMs]) => `${step} ${(stepMs / 1000).toFixed(2)}`)
        .join(', ');
      process.stdout.write(
        `  window ${h + 1}/${scale.hours}: ${(ms / 1000).toFixed(2)} s (${detail}; mean so far ${(attributeMs / (h + 1) / 1000).toFixed(2)} s)\n`,
      );
    }
  }
  const sorted = [...perWindow].sort((a, b) => a - b);
  process.stdout.write(
    `attribution: ${scale.hours} windows in ${(attributeMs / 1000).toFixed(1)} s (mean ${(attributeMs / scale.hours / 1000).toFixed(2)} s, median ${((sorted[Math.floor(sorted.length / 2)] ?? 0) / 1000).toFixed(2)} s, max ${((sorted.at(-1) ?? 0) / 1000).toFixed(2)} s per window); inserting the profiles took ${(insertMs / 1000).toFixed(1)} s (not included)\n`,
  );
  process.stdout.write(
    `  mean per step: ${Object.entries(steps)
      .map(([step, ms]) => `${step} ${(ms / scale.hours / 1000).toFixed(2)} s`)
      .join(', ')}\n`,
  );
  // Re-attributing an unchanged window: the function splits are identical, so the daily facts are not touched.
  const again = performance.now();
  const last = new Date(START + (scale.hours - 1) * HOUR);
  await insertWindow(db, last, folds, scale);
  const result = await db.transaction((tx) =>
    service.attributeWindow({ start: last, end: new Date(last.getTime() + HOUR) }, tx),
  );
  process.stdout.write(
    `re-attributing an unchanged window: ${seconds(again)} (${result.functionDayChanges} daily function rows changed)\n`,
  );
}

/** One profile per service into the window, its CPU scaled by a per-(service, hour) factor. */
async function insertWindow(db: DataSource, start: Date, folds: readonly Uint8Array[], scale: Scale): Promise<void> {
  const h = Math.round((start.getTime() - START) / HOUR);
  for (let i = 0; i < folds.length; i += 200) {
    const chunk = folds.slice(i, i + 200);
    await db.query(
      `INSERT INTO profiles (source, service, profile_type, window_start, window_end, digest, series_labels, byte_size, sample_count, cpu_nanoseconds, fold)
       SELECT 'bench', x.service, 'cpu:nanoseconds', $1, $2, x.digest, '{}'::jsonb, 0, $3, x.cpu, x.fold
         FROM unnest($4::text[], $5::text[], $6::bigint[], $7::bytea[]) AS x(service, digest, cpu, fold)`,
      [
        start,
        new Date(start.getTime() + HOUR),
        scale.functions,
        chunk.map((_, j) => serviceName(i + j)),
        chunk.map((_, j) => `${serviceName(i + j)}-${h}`),
        chunk.map((_, j) => String(cpuOf(i + j, h))),
        chunk.map((f) => Buffer.from(f)),
      ],
    );
  }
}

async function benchLeaderboards(db: DataSource, hours: number): Promise<void> {
  const board = new LeaderboardService(new LeaderboardRepository(db), new FunctionDictionary(db));
  const endDay = START + Math.max(1, Math.floor(hours / 24)) * 24 * HOUR;
  const periods = [
    { label: 'last day', from: new Date(endDay - 24 * HOUR), to: new Date(endDay) },
    { label: `all ${Math.max(1, Math.floor(hours / 24))} day(s)`, from: new Date(START), to: new Date(endDay) },
    {
      label: 'last 6 hours (hourly facts)',
      from: new Date(START + (hours - 6) * HOUR),
      to: new Date(START + hours * HOUR),
    },
  ];
  for (const period of periods) {
    for (const name of ['teams', 'services', 'functions', 'cross-service-functions'] as const) {
      if (name.includes('functions') && period.label.includes('hours')) continue;
      for (const by of name === 'services' ? (['self'] as const) : (['self', 'inclusive'] as const)) {
        const t = performance.now();
        const result = await board.leaderboard({ board: name, from: period.from, to: period.to, limit: 20, by });
        process.stdout.write(
          `leaderboard ${name} by=${by} over ${period.label}: ${seconds(t)} (${result.rows.length} rows, total $${result.total.dollars})\n`,
        );
      }
    }
  }
}

async function printTables(db: DataSource): Promise<void> {
  const rows = (await db.query(
    `SELECT t.relname AS table,
            (SELECT sum(c.reltuples)::bigint FROM pg_partition_tree(t.oid) p JOIN pg_class c ON c.oid = p.relid WHERE c.relkind = 'r') AS approx_rows,
            CASE WHEN t.relkind = 'p' THEN (SELECT sum(pg_total_relation_size(p.relid))::bigint FROM pg_partition_tree(t.oid) p) ELSE pg_total_relation_size(t.oid) END AS bytes
       FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND t.relkind IN ('r', 'p') AND NOT t.relispartition
        AND (t.relname LIKE 'cost_%' OR t.relname IN ('price_schedules', 'catalog_revisions'))
      ORDER BY bytes DESC`,
  )) as Array<{ table: string; approx_rows: string | null; bytes: string }>;
  await db.query('ANALYZE');
  for (const r of rows) {
    const [{ n }] = (await db.query(`SELECT count(*)::bigint AS n FROM ${r.table}`)) as [{ n: string }];
    process.stdout.write(
      `table ${r.table.padEnd(22)} ${String(n).padStart(12)} rows ${mib(Number(r.bytes)).padStart(12)}\n`,
    );
  }
}

function syntheticFold(s: number, functions: number): Fold {
  const fns = new Map<string, FunctionValue>();
  let total = 0n;
  for (let f = 0; f < functions; f++) {
    const shared = f % 10 === 0;
    const name = shared
      ? `runtime/lib.func${f}`
      : `github.com/acme/${serviceName(s)}/pkg${f % 40}.(*Handler).Method${f}`;
    const flat = BigInt(Math.floor(1e9 / (f + 1)) + ((s * 7919 + f * 104729) % 100_000));
    total += flat;
    fns.set(name, { flat, cum: flat + BigInt(Math.floor(2e9 / ((f % 97) + 1))) });
  }
  for (const [name, v] of fns) if (v.cum > total) fns.set(name, { flat: v.flat, cum: total });
  return {
    format: 'pprof',
    sampleType: { type: 'cpu', unit: 'nanoseconds' },
    sampleTypes: [{ type: 'cpu', unit: 'nanoseconds' }],
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: 10_000_000n,
    timeNanos: 0n,
    durationNanos: 0n,
    sampleCount: functions,
    total,
    absoluteTotal: total,
    functions: fns,
  };
}

/** 0.5 to 8 cores-hours per service and hour, varying by hour of day. */
function cpuOf(s: number, h: number): bigint {
  const cores = 0.5 + ((s * 37) % 75) / 10;
  const daily = 0.75 + 0.25 * Math.sin((2 * Math.PI * (h % 24)) / 24);
  return BigInt(Math.round(cores * daily * 3600)) * 1_000_000_000n;
}

function serviceName(s: number): string {
  return `svc-${String(s).padStart(4, '0')}`;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const text = i >= 0 ? process.argv[i + 1] : process.env[`FLAMEBILL_BENCH_${name.toUpperCase()}`];
  const n = Number(text ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${String(text)}`);
  return n;
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(3)} s`;
}
