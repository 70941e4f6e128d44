import type { DataSource } from 'typeorm';
import { AttributionRepository } from '../src/cost/attribution.repository';
import { CostQueryRepository, type Scope } from '../src/cost/cost-query.repository';
import { CostQueryService } from '../src/cost/cost-query.service';
import { BLOCK_BITS } from '../src/cost/function-day-state';
import { BLOCK_PART_ENTRIES } from '../src/cost/function-day.repository';
import { FunctionDictionary } from '../src/cost/function-dictionary';
import { encodeSplitArrays } from '../src/cost/function-split.codec';
import { LeaderboardRepository } from '../src/cost/leaderboard.repository';
import type { Step } from '../src/domain/cost';
import { migratedBenchDatabase, reusedBenchDatabase } from './support/bench-database';
import { loadAverage, mib } from './support/measure';

/**
 * The cost query service on a year of synthetic facts (`npm run bench -- queries`): 1,000 services, 100 teams
 * (services 990-999 unowned), 2,000 functions per service (200 shared by every service), daily service and team
 * rollups and hourly window headers for 365 days, function day blocks and board lists for the last
 * `--function-days` days (default 14: a week and the week before), hourly service, team and label rows (and the
 * daily label rollup of those days) for the last 7 days and window splits for the last day of 50 services. Rows are written with generate_series in bulk, not
 * through attribution (bench/attribution.bench.ts measures that). Amounts are consistent: a function's day amount
 * is 24 × its hourly one and a service's day is the Σ of its functions, so the books balance on the filled days.
 *
 * Prints p50/p99 of every query: `cold` is the first read of each of several subjects (services, teams, weeks) not
 * read before in this process; `warm` repeats one. PostgreSQL's and the OS's caches are not dropped (a shared
 * server), so cold figures are lower bounds of a real cold start; a cold read of a team's or service's functions
 * over an ISO week includes building the weekly per-service copies it reads. DATABASE_URL or an embedded PostgreSQL
 * (FLAMEBILL_BENCH_KEEP=1 keeps a DATABASE_URL database; FLAMEBILL_BENCH_REUSE=<its url> measures it again).
 */
export async function run(): Promise<void> {
  const functionDays = arg('function-days', 14);
  const out = process.stdout;
  out.write(
    `scale: ${SERVICES} services, ${TEAMS} teams, ${FUNCTIONS} functions per service, ${DAYS} days of rollups, ${functionDays} days of function blocks; load ${loadAverage()}\n`,
  );
  // FLAMEBILL_BENCH_REUSE=<url of a database this bench filled and kept> measures again without filling (after
  // migrating it); FLAMEBILL_BENCH_CASES=<regex> runs only the matching queries.
  const reuse = process.env['FLAMEBILL_BENCH_REUSE']?.trim();
  const { db, close } = reuse ? await reusedBenchDatabase(reuse) : await migratedBenchDatabase();
  try {
    if (!reuse) await fill(db, functionDays);
    await printSizes(db);
    await benchQueries(db, functionDays);
  } finally {
    await close();
  }
  out.write(`load average after: ${loadAverage()}\n`);
}

/** `--services N` shrinks the fleet for a quick check of the bench itself (the figures are for 1,000). */
export const SERVICES = arg('services', 1000);
const TEAMS = 100;
const OWN = 1800;
const SHARED = 200;
const FUNCTIONS = OWN + SHARED;
const DAYS = 365;
const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Exclusive end of the filled year: a Monday, so the last full ISO week is [END − 7 days, END). */
export const END = Date.parse('2026-11-30T00:00:00Z');
const START = END - DAYS * DAY;
const HOURLY_DAYS = 7;
const SPLIT_SERVICES = 50;
const IDLE_PER_HOUR = 1_000_000n;

/** SQL of the day index d's factor (a multiple of 24, so an hour is exactly a 24th of a day). */
const FACTOR_SQL = (d: string) => `(24 * (4 + ((${d}) * 7) % 5))`;
const factorOf = (d: number) => BigInt(24 * (4 + ((d * 7) % 5)));
const dayIndex = (ms: number) => Math.round((ms - START) / DAY);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function step(label: string, fn: () => Promise<unknown>): Promise<void> {
  const t = performance.now();
  await fn();
  process.stdout.write(`  fill ${label}: ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
}

/** Fills `db` with the year of facts described above (also the dashboard bench's database). */
export async function fill(db: DataSource, functionDays: number): Promise<void> {
  const q = (sql: string, params: unknown[] = []) => db.query(sql, params);
  const t0 = performance.now();
  await q(`INSERT INTO price_schedules (id, currency, document) VALUES ('sha256:bench', 'USD', '{}'::jsonb)`);
  await step('services and function names (1.8 M)', async () => {
    await q(
      `INSERT INTO cost_services (id, name) OVERRIDING SYSTEM VALUE SELECT s + 1, 'svc-' || lpad(s::text, 4, '0') FROM generate_series(0, ${SERVICES - 1}) s`,
    );
    await q(
      `INSERT INTO cost_functions (id, name) OVERRIDING SYSTEM VALUE
       SELECT 1 + s * ${OWN} + j, 'github.com/acme/svc-' || lpad(s::text, 4, '0') || '/pkg' || (j % 40) || '.(*Handler).Method' || j
         FROM generate_series(0, ${SERVICES - 1}) s, generate_series(0, ${OWN - 1}) j`,
    );
    await q(
      `INSERT INTO cost_functions (id, name) OVERRIDING SYSTEM VALUE SELECT ${1 + SERVICES * OWN} + k, 'runtime/lib.func' || k FROM generate_series(0, ${SHARED - 1}) k`,
    );
  });
  // Per (service, function): a base amount (flat ∝ 1/rank) and an inclusive one; a day is base × factor(day).
  await q(
    `CREATE UNLOGGED TABLE bench_base AS
     SELECT s + 1 AS sid, fid, b, b + 2000000 / ((fid % 97) + 1) AS c FROM (
       SELECT s, 1 + s * ${OWN} + j AS fid, (1000000 / (j + 1) + ((s * 7919 + (1 + s * ${OWN} + j)::bigint * 104729) % 1000))::bigint AS b
         FROM generate_series(0, ${SERVICES - 1}) s, generate_series(0, ${OWN - 1}) j
       UNION ALL
       SELECT s, ${1 + SERVICES * OWN} + k, (1000000 / (9 * k + 1) + ((s * 7919 + k * 104729) % 1000))::bigint
         FROM generate_series(0, ${SERVICES - 1}) s, generate_series(0, ${SHARED - 1}) k) x`,
  );
  await q(`CREATE UNLOGGED TABLE bench_service AS SELECT sid, sum(b)::bigint AS b FROM bench_base GROUP BY sid`);
  const team = `CASE WHEN b.sid <= ${SERVICES - 10} THEN 'team-' || lpad(((b.sid - 1) % ${TEAMS})::text, 3, '0') ELSE '__unowned__' END`;
  await step(`daily rollups (${DAYS} days)`, async () => {
    await q(
      `INSERT INTO cost_service_days (day, service, team, cpu_nanoseconds, microdollars, default_priced, windows)
       SELECT $1::date + d, 'svc-' || lpad((b.sid - 1)::text, 4, '0'), ${team}, b.b * ${FACTOR_SQL('d')} * 1000, b.b * ${FACTOR_SQL('d')}, false, 24
         FROM generate_series(0, ${DAYS - 1}) d, bench_service b`,
      [iso(START)],
    );
    await q(
      `INSERT INTO cost_team_days (day, team, kind, own_microdollars, rolled_up_microdollars)
       SELECT day, team, CASE WHEN team = '__unowned__' THEN 'unowned' ELSE 'group' END, sum(microdollars), sum(microdollars) FROM cost_service_days GROUP BY day, team
       UNION ALL
       SELECT $1::date + d, '__idle__', 'idle', ${IDLE_PER_HOUR * 24n}, ${IDLE_PER_HOUR * 24n} FROM generate_series(0, ${DAYS - 1}) d`,
      [iso(START)],
    );
    const [{ tb }] = (await q(`SELECT sum(b)::text AS tb FROM bench_service`)) as [{ tb: string }];
    await q(
      `INSERT INTO cost_windows (window_start, window_end, currency, total_microdollars, idle_microdollars, default_priced, price_schedule_id, profile_count, idle)
       SELECT $1::timestamptz + h * interval '1 hour', $1::timestamptz + (h + 1) * interval '1 hour', 'USD',
              $2::bigint * ${FACTOR_SQL('h / 24')} / 24 + ${IDLE_PER_HOUR}, ${IDLE_PER_HOUR}, false, 'sha256:bench', ${SERVICES},
              jsonb_build_array(jsonb_build_object('source', 'fleet', 'microdollars', '${IDLE_PER_HOUR}', 'overcommitted', false))
         FROM generate_series(0, ${DAYS * 24 - 1}) h`,
      [new Date(START), tb],
    );
  });
  const partitions = new AttributionRepository();
  for (let m = END - (Math.max(functionDays, HOURLY_DAYS) + 1) * DAY; m < END + 10 * DAY; m += 10 * DAY)
    await db.transaction((tx) => partitions.ensurePartitions(tx, new Date(m)));
  await step(`hourly service, team and label rows (${HOURLY_DAYS} days)`, async () => {
    const from = END - HOURLY_DAYS * DAY;
    await q(
      `INSERT INTO cost_service_windows (window_start, service, team, system, cpu_nanoseconds, microdollars, mode, default_priced, price_ids, profile_service_names, profile_digests)
       SELECT $1::timestamptz + h * interval '1 hour', 'svc-' || lpad((b.sid - 1)::text, 4, '0'), ${team}, NULL,
              b.b * ${FACTOR_SQL(`${dayIndex(from)} + h / 24`)} / 24 * 1000, b.b * ${FACTOR_SQL(`${dayIndex(from)} + h / 24`)} / 24, 'measured', false,
              ARRAY['default@2026-01-01T00:00:00.000Z'], ARRAY['svc-' || lpad((b.sid - 1)::text, 4, '0')], ARRAY[md5(b.sid || ':' || h)]
         FROM generate_series(0, ${HOURLY_DAYS * 24 - 1}) h, bench_service b`,
      [new Date(from)],
    );
    await q(
      `INSERT INTO cost_team_windows (window_start, team, kind, parent_team, own_microdollars, rolled_up_microdollars)
       SELECT window_start, team, CASE WHEN team = '__unowned__' THEN 'unowned' ELSE 'group' END, NULL, sum(microdollars), sum(microdollars)
         FROM cost_service_windows GROUP BY window_start, team
       UNION ALL
       SELECT window_start, '__idle__', 'idle', NULL, ${IDLE_PER_HOUR}, ${IDLE_PER_HOUR} FROM cost_windows WHERE window_start >= $1`,
      [new Date(from)],
    );
    // Four versions per service-hour: three quarters and the remainder, so the values sum to the service.
    await q(
      `INSERT INTO cost_label_windows (window_start, service, label_key, label_value, microdollars)
       SELECT window_start, service, 'version', 'v' || v, CASE WHEN v = 0 THEN microdollars - 3 * (microdollars / 4) ELSE microdollars / 4 END
         FROM cost_service_windows, generate_series(0, 3) v`,
    );
    // The daily label rollup, as attribution rebuilds it with the day's other rollups.
    await q(
      `INSERT INTO cost_label_days (day, service, team, label_key, label_value, microdollars)
       SELECT (l.window_start AT TIME ZONE 'UTC')::date, l.service, s.team, l.label_key, l.label_value, sum(l.microdollars)
         FROM cost_label_windows l JOIN cost_service_windows s USING (window_start, service) GROUP BY 1, 2, 3, 4, 5`,
    );
    // The daily provenance rollup, as attribution rebuilds it (one price id and one digest per service-hour here).
    await q(
      `INSERT INTO cost_provenance_days (day, service, team, price_ids, profile_digests)
       SELECT (window_start AT TIME ZONE 'UTC')::date, service, team, array_agg(DISTINCT price_ids[1]), array_agg(DISTINCT profile_digests[1] ORDER BY profile_digests[1])
         FROM cost_service_windows GROUP BY 1, 2, 3`,
    );
  });
  await step(`window splits (last day, ${SPLIT_SERVICES} services)`, async () => {
    const rows = (await q(
      `SELECT sid, array_agg(fid ORDER BY fid)::text AS f, array_agg(b ORDER BY fid)::text AS b, array_agg(c ORDER BY fid)::text AS c FROM bench_base WHERE sid <= ${SPLIT_SERVICES} GROUP BY sid`,
    )) as Array<{ sid: number; f: string; b: string; c: string }>;
    const day = END - DAY;
    const factor = factorOf(dayIndex(day)) / 24n;
    for (let h = 0; h < 24; h++) {
      const splits = rows.map((r) => {
        const ids = Int32Array.from(r.f.slice(1, -1).split(','), Number);
        const self = r.b
          .slice(1, -1)
          .split(',')
          .map((x) => BigInt(x) * factor);
        const cum = r.c
          .slice(1, -1)
          .split(',')
          .map((x) => BigInt(x) * factor);
        return {
          service: `svc-${String(r.sid - 1).padStart(4, '0')}`,
          bytes: encodeSplitArrays({ ids, self, cum }),
          self: self.reduce((a, b) => a + b, 0n),
        };
      });
      await q(
        `INSERT INTO cost_function_splits (window_start, service, function_count, self_microdollars, split) SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bytea[])`,
        [
          new Date(day + h * HOUR),
          splits.map((s) => s.service),
          splits.map(() => FUNCTIONS),
          splits.map((s) => s.self.toString()),
          splits.map((s) => s.bytes),
        ],
      );
    }
  });
  for (let i = functionDays; i >= 1; i--) {
    const day = END - i * DAY;
    const f = factorOf(dayIndex(day));
    await step(`function day blocks, board lists ${iso(day)}`, async () => {
      await q(
        `INSERT INTO cost_function_day_blocks (day, block, part, service_ids, function_ids, self_microdollars, cum_microdollars)
         SELECT $1::date, fid >> ${BLOCK_BITS}, part, array_agg(sid ORDER BY fid, sid), array_agg(fid ORDER BY fid, sid), array_agg(b * ${f} ORDER BY fid, sid), array_agg(c * ${f} ORDER BY fid, sid)
           FROM (SELECT *, ((row_number() OVER (PARTITION BY fid >> ${BLOCK_BITS} ORDER BY fid, sid) - 1) / ${BLOCK_PART_ENTRIES})::int AS part FROM bench_base) e
          GROUP BY fid >> ${BLOCK_BITS}, part`,
        [iso(day)],
      );
      for (const [board, column] of [
        ['self', 'b'],
        ['inclusive', 'c'],
      ] as const) {
        await q(
          `INSERT INTO cost_function_day_tops (day, board, rank, service_id, function_id, self_microdollars, cum_microdollars, services)
           SELECT $1::date, '${board}', row_number() OVER (ORDER BY ${column} DESC, sid, fid), sid, fid, b * ${f}, c * ${f}, 1
             FROM (SELECT * FROM bench_base ORDER BY ${column} DESC, sid, fid LIMIT 1000) t`,
          [iso(day)],
        );
        await q(
          `INSERT INTO cost_function_day_tops (day, board, rank, service_id, function_id, self_microdollars, cum_microdollars, services)
           SELECT $1::date, 'cross-${board}', row_number() OVER (ORDER BY ${column} DESC, fid), NULL, fid, b * ${f}, c * ${f}, n
             FROM (SELECT fid, sum(b) AS b, sum(c) AS c, count(*)::int AS n FROM bench_base GROUP BY fid ORDER BY ${column} DESC, fid LIMIT 1000) t`,
          [iso(day)],
        );
      }
      await q(
        `INSERT INTO cost_function_day_states (day, token, pairs, functions, top_size) VALUES ($1::date, md5($1::text), ${SERVICES * FUNCTIONS}, ${SERVICES * OWN + SHARED}, 1000)`,
        [iso(day)],
      );
    });
  }
  await q(`DROP TABLE bench_base`);
  await q(`DROP TABLE bench_service`);
  await step('ANALYZE', () => q('ANALYZE'));
  process.stdout.write(`filled in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  const repository = new CostQueryRepository(db);
  const t1 = performance.now();
  const built = await repository.ensureServiceDays({ fromMs: END - functionDays * DAY, toMs: END });
  process.stdout.write(
    `per-service copies of the function days (what the first read of a day builds): ${built.length} days in ${((performance.now() - t1) / 1000).toFixed(1)} s (${((performance.now() - t1) / 1000 / Math.max(1, built.length)).toFixed(1)} s per day)\n`,
  );
  await q('ANALYZE cost_function_service_days');
}

async function printSizes(db: DataSource): Promise<void> {
  const rows = (await db.query(
    `SELECT t.relname AS table,
            CASE WHEN t.relkind = 'p' THEN (SELECT sum(pg_total_relation_size(p.relid))::bigint FROM pg_partition_tree(t.oid) p) ELSE pg_total_relation_size(t.oid) END AS bytes
       FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND t.relkind IN ('r', 'p') AND NOT t.relispartition AND t.relname LIKE 'cost_%' ORDER BY bytes DESC`,
  )) as Array<{ table: string; bytes: string }>;
  for (const r of rows) process.stdout.write(`  table ${r.table.padEnd(34)} ${mib(Number(r.bytes)).padStart(12)}\n`);
}

interface Case {
  readonly name: string;
  /** Runs the query for the i-th subject (i = 0 is the one repeated warm). */
  readonly run: (q: CostQueryService, i: number) => Promise<unknown>;
  readonly subjects: number;
}

async function benchQueries(db: DataSource, functionDays: number): Promise<void> {
  const q = new CostQueryService(
    new CostQueryRepository(db),
    new LeaderboardRepository(db),
    new FunctionDictionary(db),
    () => END + 15 * DAY,
  );
  const week = (i: number) => ({
    from: new Date(END - (i + 1) * 7 * DAY),
    to: new Date(END - i * 7 * DAY),
    step: 'week' as Step,
  });
  const fnWeeks = Math.max(1, Math.floor(functionDays / 7) - 1); // weeks whose previous week has function facts too
  const svc = (i: number) => `svc-${String(100 + i * 37).padStart(4, '0')}`;
  const team = (i: number) => `team-${String((i * 7) % TEAMS).padStart(3, '0')}`;
  const weeks12 = (i: number) => ({
    from: new Date(END - (i + 12) * 7 * DAY),
    to: new Date(END - i * 7 * DAY),
    step: 'week' as Step,
  });
  const serviceScope = (i: number): Scope => ({ kind: 'service', service: svc(i) });
  const teamScope = (i: number): Scope => ({ kind: 'team', team: team(i) });
  const lastDay = END - DAY;
  const cases: Case[] = [
    {
      name: 'rows by team, org-wide, one week',
      subjects: 8,
      run: (s, i) => s.rows({ ...week(i), groupBy: 'team', limit: 100 }),
    },
    {
      name: 'rows by service, org-wide, one week (first 100)',
      subjects: 8,
      run: (s, i) => s.rows({ ...week(i), groupBy: 'service', limit: 100 }),
    },
    {
      name: 'rows by service of one team, one week',
      subjects: 8,
      run: (s, i) => s.rows({ ...week(0), groupBy: 'service', scope: teamScope(i) }),
    },
    {
      name: 'rows by service, org-wide, 11 months by month',
      subjects: 1,
      run: (s) =>
        s.rows({
          from: new Date(Date.UTC(2025, 11, 1)),
          to: new Date(Date.UTC(2026, 10, 1)),
          step: 'month',
          groupBy: 'service',
          limit: 100,
        }),
    },
    {
      name: 'rows by label:version, one service, one week',
      subjects: 8,
      run: (s, i) => s.rows({ ...week(0), groupBy: 'label:version', scope: serviceScope(i) }),
    },
    {
      name: 'rows by label:version of one team, one week',
      subjects: 8,
      run: (s, i) => s.rows({ ...week(0), groupBy: 'label:version', scope: teamScope(i) }),
    },
    {
      name: 'rows by label:version, org-wide, one week',
      subjects: 1,
      run: (s) => s.rows({ ...week(0), groupBy: 'label:version' }),
    },
    {
      name: 'rows by service, org-wide, 12 hours (hourly)',
      subjects: 4,
      run: (s, i) =>
        s.rows({
          from: new Date(lastDay + i * HOUR),
          to: new Date(lastDay + (i + 12) * HOUR),
          step: 'hour',
          groupBy: 'service',
          limit: 100,
        }),
    },
    {
      name: 'top functions of one service, one week, self',
      subjects: 8,
      run: (s, i) => s.topFunctions({ ...week(i % fnWeeks), scope: serviceScope(i), by: 'self', limit: 20 }),
    },
    {
      name: 'top functions of one service, one week, inclusive',
      subjects: 8,
      run: (s, i) => s.topFunctions({ ...week(i % fnWeeks), scope: serviceScope(i + 20), by: 'inclusive', limit: 20 }),
    },
    {
      name: 'top functions of one team (~10 services), one week',
      subjects: 8,
      run: (s, i) => s.topFunctions({ ...week(i % fnWeeks), scope: teamScope(i), by: 'self', limit: 20 }),
    },
    {
      name: 'top functions, org-wide, one week (board lists)',
      subjects: fnWeeks,
      run: (s, i) => s.topFunctions({ ...week(i), scope: { kind: 'org' }, by: 'self', limit: 20 }),
    },
    {
      name: 'top functions of one service, 6 hours (splits)',
      subjects: 4,
      run: (s, i) =>
        s.topFunctions({
          from: new Date(lastDay + i * HOUR),
          to: new Date(lastDay + (i + 6) * HOUR),
          step: 'hour',
          scope: { kind: 'service', service: `svc-${String(i).padStart(4, '0')}` },
          by: 'self',
          limit: 20,
        }),
    },
    {
      name: 'cross-service view of a shared function, one week',
      subjects: 8,
      run: (s, i) => s.crossService({ ...week(i % fnWeeks), function: `runtime/lib.func${i}` }),
    },
    {
      name: 'trend of one team, 12 weeks',
      subjects: 8,
      run: (s, i) => s.trend({ ...weeks12(0), subject: teamScope(i) }),
    },
    {
      name: 'trend of one service, 12 weeks',
      subjects: 8,
      run: (s, i) => s.trend({ ...weeks12(0), subject: serviceScope(i) }),
    },
    {
      name: 'trend of the organisation, 12 weeks',
      subjects: 4,
      run: (s, i) => s.trend({ ...weeks12(i), subject: { kind: 'org' } }),
    },
    { name: 'trend of every team, 12 weeks', subjects: 4, run: (s, i) => s.trends({ ...weeks12(i), each: 'team' }) },
    {
      name: 'trend of one function in one service, 2 weeks by day',
      subjects: 8,
      run: (s, i) =>
        s.trend({
          from: new Date(END - 2 * 7 * DAY),
          to: new Date(END),
          step: 'day',
          subject: { kind: 'function', function: `runtime/lib.func${i}`, service: svc(i) },
        }),
    },
    { name: 'books of one week', subjects: fnWeeks, run: (s, i) => s.books(week(i)) },
    {
      name: 'provenance of one service, one week',
      subjects: 8,
      run: (s, i) => s.provenance({ ...week(0), scope: serviceScope(i) }),
    },
    { name: 'provenance, org-wide, one week', subjects: 1, run: (s) => s.provenance({ ...week(0) }) },
  ];
  process.stdout.write(`\nquery (ms)${' '.repeat(52)}cold p50   cold p99 | warm p50   warm p99  (cold n, warm n)\n`);
  const only = process.env['FLAMEBILL_BENCH_CASES'] ? new RegExp(process.env['FLAMEBILL_BENCH_CASES']) : null;
  for (const c of cases) {
    if (only && !only.test(c.name)) continue;
    const cold: number[] = [];
    for (let i = 0; i < c.subjects; i++) cold.push(await time(() => c.run(q, i)));
    const warm: number[] = [];
    const deadline = performance.now() + 15_000;
    while (warm.length < 30 && (warm.length < 3 || performance.now() < deadline))
      warm.push(await time(() => c.run(q, 0)));
    process.stdout.write(
      `${c.name.padEnd(62)} ${fmt(pct(cold, 50))} ${fmt(pct(cold, 99))} | ${fmt(pct(warm, 50))} ${fmt(pct(warm, 99))}  (${cold.length}, ${warm.length})\n`,
    );
  }
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Nearest-rank percentile. */
function pct(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

function fmt(ms: number): string {
  return ms.toFixed(1).padStart(9);
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const text = i >= 0 ? process.argv[i + 1] : process.env[`FLAMEBILL_BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  const n = Number(text ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${String(text)}`);
  return n;
}
