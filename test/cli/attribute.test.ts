import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { Profile } from 'pprof-format';
import { runAttribute, serviceNameOf } from '../../src/cli/attribute-run';

const ROOT = join(__dirname, '../..');
const PROFILES = join(ROOT, 'test/fixtures/attribute/profiles');
const REFS = join(ROOT, 'test/fixtures/corpus/profile-refs');

interface AttributeJson {
  currency: string;
  totalMicrodollars: number;
  teams: { team: string; microdollars: number }[];
  services: { service: string; team: string; cpuNanoseconds: number; microdollars: number }[];
  functions: { service: string; function: string; selfMicrodollars: number; cumMicrodollars: number }[];
}

/** `go tool pprof` CPU totals (ns) of each fixture, from test/fixtures/corpus/profile-refs (copies of ../shared's). */
const REF_TOTALS: Record<string, [string, number]> = {
  'go-compiler/default.2023-05.pgo': ['golang-go/default.2023-05.pgo.cpu.top.json', 161_850_000_000],
  'go-compiler/default.2024-05.pgo': ['golang-go/default.2024-05.pgo.cpu.top.json', 100_820_000_000],
  'devirt.pprof': ['golang-go/devirt.pprof.cpu.top.json', 7_390_000_000],
  'inline_hot.pprof': ['golang-go/inline_hot.pprof.cpu.top.json', 1_300_000_000],
  'sample.cpu': ['google-pprof/sample.cpu.cpu.top.json', 1_760_000_000],
  'cpu.pprof': ['grafana-pyroscope/cpu.pprof.cpu.top.json', 470_000_000],
  'normal-cpu.stripped.pprof': ['parca/normal-cpu.stripped.pprof.cpu.top.json', 9_070_000_000],
  'profile1.pb.gz': ['parca/profile1.pb.gz.cpu.top.json', 480_000_000],
  kafka0: [
    'grafana-pyroscope/cortex-dev-01__kafka-0__cpu__0.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz.cpu.top.json',
    4_780_000_000,
  ],
  kafka1: [
    'grafana-pyroscope/cortex-dev-01__kafka-0__cpu__1.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz.cpu.top.json',
    6_130_000_000,
  ],
  kafka2: [
    'grafana-pyroscope/cortex-dev-01__kafka-0__cpu__2.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz.cpu.top.json',
    4_820_000_000,
  ],
  kafka3: [
    'grafana-pyroscope/cortex-dev-01__kafka-0__cpu__3.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz.cpu.top.json',
    6_980_000_000,
  ],
};

/*
 * Hand calculation, one window per profile (each starts at its time_nanos), priced with
 * examples/prices.yaml: µ$ = CPU s ÷ 3600 × $/core-hour × 1e6, rounded half up per window.
 *   go-compiler  2023-05-15  161.85 s × 0.0316 → 1420.683 → 1421
 *                2024-05-22  100.82 s × 0.0289 →  809.361 →  809   (2024 committed-use price)  = 2230
 *   kafka        2024-02-16    4.78 s × 0.0289 →   38.372 →   38
 *                               6.13 s × 0.0289 →   49.210 →   49
 *                               4.82 s × 0.0289 →   38.693 →   39
 *                               6.98 s × 0.0289 →   56.032 →   56                             =  182
 *   checkout     2023-11-06    7.39 s × 0.05   →  102.639 →  103   (service-scoped price, alias devirt)
 *   parca-agent  2021-10-18    9.07 s × 0.0316 →   79.614 →   80   (alias normal-cpu)
 *                2021-07-11    0.48 s × 0.0316 →    4.213 →    4   (alias profile1)           =   84
 *   recommendations 2017-09-29 1.76 s × 0.031611 → 15.454 →   15   (before any price: OpenCost default)
 *   inline_hot   2022-11-02    1.30 s × 0.0316 →   11.411 →   11   (not in the catalog: __unowned__)
 *   pyroscope-ingester 2021-04-25 0.47 s × 0.0316 → 4.126 →    4   (alias cpu)
 *   total 2230 + 182 + 103 + 84 + 15 + 11 + 4 = 2629
 */
const EXPECTED_SERVICES = [
  { service: 'go-compiler', team: 'developer-productivity', cpuNanoseconds: 262_670_000_000, microdollars: 2230 },
  { service: 'kafka', team: 'data-platform', cpuNanoseconds: 22_710_000_000, microdollars: 182 },
  { service: 'checkout', team: 'payments', cpuNanoseconds: 7_390_000_000, microdollars: 103 },
  { service: 'parca-agent', team: 'observability', cpuNanoseconds: 9_550_000_000, microdollars: 84 },
  { service: 'recommendations', team: 'storefront', cpuNanoseconds: 1_760_000_000, microdollars: 15 },
  { service: 'inline_hot', team: '__unowned__', cpuNanoseconds: 1_300_000_000, microdollars: 11 },
  { service: 'pyroscope-ingester', team: 'observability', cpuNanoseconds: 470_000_000, microdollars: 4 },
];

const ARGS = { profiles: PROFILES, catalog: join(ROOT, 'catalog'), prices: join(ROOT, 'examples/prices.yaml') };

describe('flamebill attribute (golden: example catalog, example prices, real profiles)', () => {
  it('uses the go tool pprof totals the hand calculation is based on', () => {
    for (const [ref, total] of Object.values(REF_TOTALS)) {
      expect(JSON.parse(readFileSync(join(REFS, ref), 'utf8')).total, ref).toBe(total);
    }
  });

  it('gives the hand-calculated dollars per service and team, summing to the total', async () => {
    const out = await runAttribute({ ...ARGS, json: true });
    const doc = JSON.parse(out.stdout) as AttributeJson;
    expect(doc.currency).toBe('USD');
    expect(doc.totalMicrodollars).toBe(2629);
    expect(doc.services).toEqual(EXPECTED_SERVICES);
    expect(doc.teams).toEqual([
      { team: 'developer-productivity', microdollars: 2230 },
      { team: 'data-platform', microdollars: 182 },
      { team: 'payments', microdollars: 103 },
      { team: 'observability', microdollars: 88 },
      { team: 'storefront', microdollars: 15 },
      { team: '__unowned__', microdollars: 11 },
      { team: '__idle__', microdollars: 0 },
    ]);
    for (const s of doc.services) {
      const fns = doc.functions.filter((f) => f.service === s.service);
      expect(
        fns.reduce((x, f) => x + f.selfMicrodollars, 0),
        s.service,
      ).toBe(s.microdollars);
    }
    expect(out.warnings).toEqual([
      "no configured price covered some profiles: OpenCost's default $0.031611/core-hour was used (marked *)",
      'services not in the catalog (attributed to __unowned__): inline_hot',
    ]);
  });

  it('bills a profile in cpu/microseconds as the service does (one CPU-time classifier for CLI and service)', async () => {
    // The real Go profile of pyroscope-ingester, its cpu/nanoseconds values restated in microseconds (exact: every
    // value is a multiple of 10 ms), as profilers that report microseconds write it.
    const profile = Profile.decode(gunzipSync(readFileSync(join(PROFILES, 'cpu.pprof'))));
    const cpuIndex = profile.sampleType.findIndex((t) => profile.stringTable.strings[Number(t.type)] === 'cpu');
    const unit = profile.stringTable.dedup('microseconds');
    profile.sampleType[cpuIndex]!.unit = unit;
    for (const sample of profile.sample) {
      const ns = BigInt(sample.value[cpuIndex]!);
      expect(ns % 1000n).toBe(0n);
      sample.value[cpuIndex] = Number(ns / 1000n);
    }
    const dir = mkdtempSync(join(tmpdir(), 'flamebill-attr-us-'));
    writeFileSync(join(dir, 'cpu.pprof'), profile.encode());
    const out = await runAttribute({ ...ARGS, profiles: dir, json: true });
    const doc = JSON.parse(out.stdout) as AttributeJson;
    expect(doc.services).toEqual([
      { service: 'pyroscope-ingester', team: 'observability', cpuNanoseconds: 470_000_000, microdollars: 4 },
    ]);
  });

  it('names services by file name up to the first dot, or by the folder of grouped files', () => {
    expect(serviceNameOf('/p', '/p/devirt.pprof')).toBe('devirt');
    expect(serviceNameOf('/p', '/p/go-compiler/default.2023-05.pgo')).toBe('go-compiler');
    expect(serviceNameOf('/p', '/p/a/b/x.pb.gz')).toBe('b');
  });
});

describe('the built CLI', () => {
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  }, 300_000);

  const run = (...args: string[]) =>
    spawnSync('node', ['bin/flamebill.js', 'attribute', ...args], { cwd: ROOT, encoding: 'utf8' });

  it('prints the same JSON as the command function, and a table without --json', async () => {
    const json = run('--profiles', ARGS.profiles, '--catalog', ARGS.catalog, '--prices', ARGS.prices, '--json');
    expect(json.status).toBe(0);
    expect(json.stdout).toBe((await runAttribute({ ...ARGS, json: true })).stdout);
    const table = run('--profiles', ARGS.profiles, '--catalog', ARGS.catalog, '--prices', ARGS.prices);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain('Total 0.002629 USD over 12 window(s)');
    expect(table.stdout).toMatch(/recommendations\s+storefront\s+1\.76\s+0\.000015 USD\s+opencost-default \*/);
    expect(table.stderr).toContain('inline_hot');
  });

  it('fails with every catalog problem and every price problem, with file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flamebill-attr-'));
    // Nothing loadable: every problem, and a failure.
    writeFileSync(join(dir, 'bad.yaml'), 'kind: Component\nmetadata:\n  name: x\nspec:\n  owner: "ghosts/of/past"\n');
    const badCatalog = run('--profiles', ARGS.profiles, '--catalog', dir, '--prices', ARGS.prices);
    expect(badCatalog.status).toBe(1);
    expect(badCatalog.stderr).toContain(
      `${join(dir, 'bad.yaml')}:5: spec.owner: malformed entity reference "ghosts/of/past"`,
    );
    const prices = join(dir, 'prices.yaml');
    writeFileSync(
      prices,
      'currency: USD\nprices:\n  - costPerCoreHour: -0.5\n    effectiveFrom: "2026-01-01T00:00:00Z"\n  - effectiveFrom: yesterday\n',
    );
    const badPrices = run('--profiles', ARGS.profiles, '--catalog', ARGS.catalog, '--prices', prices);
    expect(badPrices.status).toBe(1);
    expect(badPrices.stderr).toContain(
      `${prices}:3: prices[0].costPerCoreHour: costPerCoreHour must be zero or more, got -0.5`,
    );
    expect(badPrices.stderr).toContain(`${prices}:5: prices[1].costPerCoreHour: missing costPerCoreHour`);
    expect(badPrices.stderr).toContain(
      `${prices}:5: prices[1].effectiveFrom: effectiveFrom "yesterday" is not a valid ISO 8601`,
    );
  });
});
