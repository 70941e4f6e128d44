import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { windowOf } from '../../src/domain/ingest';
import { deserializeFold, foldProfile } from '../../src/domain/profile';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';
import { post } from './support/http-post';

const FIXTURES = join(__dirname, '..', 'fixtures');
const GO_CPU = readFileSync(join(FIXTURES, 'profiles/grafana-pyroscope/cpu.pprof')); // gzipped Go CPU profile
const GO_CPU_NS = BigInt(
  (
    JSON.parse(
      readFileSync(join(FIXTURES, 'corpus/profile-refs/grafana-pyroscope/cpu.pprof.cpu.top.json'), 'utf8'),
    ) as { total: number }
  ).total,
);
// Real Node profiles (@datadog/pprof with collectCpuTime) and `go tool pprof`'s CPU total over their merge.
const NODE_A = readFileSync(join(FIXTURES, 'trees/node-a.pb.gz'));
const NODE_B = readFileSync(join(FIXTURES, 'trees/node-b.pb.gz'));
// A real Go CPU profile whose samples carry pprof labels (`endpoint`, 8 values); go tool pprof total 1426000000 ns.
const GO_LABELLED = readFileSync(join(FIXTURES, 'go-workload/labels-2s.pb.gz'));
const NODE_CPU_NS = BigInt(
  (JSON.parse(readFileSync(join(FIXTURES, 'trees/node-merged.top.json'), 'utf8')) as { total: string }).total,
);

const TOKEN = 'connect-token-91b2';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const PROTO = { ...AUTH, 'Content-Type': 'application/proto', 'Connect-Protocol-Version': '1' };
const JSON_CT = { ...AUTH, 'Content-Type': 'application/json', 'Connect-Protocol-Version': '1' };

type Labels = Record<string, string>;
interface Series {
  readonly labels: Labels;
  readonly samples: readonly Uint8Array[];
}

/** `push.v1.PushRequest` in protobuf, written field by field as connect-go's codec would (api/push/v1/push.proto). */
function pushRequestProto(series: readonly Series[]): Uint8Array {
  const w = new BinaryWriter();
  for (const s of series) {
    w.tag(1, WireType.LengthDelimited).fork();
    for (const [name, value] of Object.entries(s.labels))
      w.tag(1, WireType.LengthDelimited)
        .fork()
        .tag(1, WireType.LengthDelimited)
        .string(name)
        .tag(2, WireType.LengthDelimited)
        .string(value)
        .join();
    for (const raw of s.samples)
      w.tag(2, WireType.LengthDelimited)
        .fork()
        .tag(1, WireType.LengthDelimited)
        .bytes(raw)
        .tag(2, WireType.LengthDelimited)
        .string('734FD599-6865-419E-9475-932762D8F469')
        .join();
    w.join();
  }
  return w.finish();
}

/** The same request in the protobuf JSON mapping (bytes in base64, JSON field names). */
function pushRequestJson(series: readonly Series[]): Uint8Array {
  const doc = {
    series: series.map((s) => ({
      labels: Object.entries(s.labels).map(([name, value]) => ({ name, value })),
      samples: s.samples.map((raw) => ({ rawProfile: Buffer.from(raw).toString('base64'), ID: 'a1' })),
    })),
  };
  return Buffer.from(JSON.stringify(doc));
}

let app: TestApp;
let db: DataSource;

beforeAll(async () => {
  process.env.FLAMEBILL_CONNECT_TOKEN = TOKEN;
  app = await startTestApp({
    logLevel: 'warn',
    settings: {
      schedules: { enabled: false, demo: false },
      labels: { keys: ['version', 'region', 'endpoint'], maxValuesPerKey: 100 },
      ingest: {
        maxBodyBytes: 4 * 1024 * 1024,
        maxInflatedBytes: 64 * 1024 * 1024,
        tenants: [{ name: 'team-a', tokenEnv: 'FLAMEBILL_CONNECT_TOKEN' }],
        rateLimit: { bytesPerSecond: 0 },
      },
    },
  });
  db = await testDataSource();
});
afterAll(async () => {
  await app?.close();
  delete process.env.FLAMEBILL_CONNECT_TOKEN;
});
beforeEach(() => truncateTables(db, ['profiles', 'dirty_windows']));

const PUSH = (): string => `${app.baseUrl}/push.v1.PusherService/Push`;

interface Row {
  service: string;
  profile_type: string;
  window_start: Date;
  cpu_nanoseconds: string;
  series_labels: Labels;
  fold: Buffer;
  source: string;
}
const rows = (): Promise<Row[]> => db.query('SELECT * FROM profiles ORDER BY service, id') as Promise<Row[]>;
const stored = async (): Promise<bigint> => (await rows()).reduce((sum, r) => sum + BigInt(r.cpu_nanoseconds), 0n);

const goSeries: Series = {
  labels: { __name__: 'process_cpu', service_name: 'checkout', region: 'eu', __delta__: 'false' },
  samples: [GO_CPU],
};
const nodeSeries: Series[] = [
  { labels: { __name__: 'wall', service_name: 'shop', pod: 'a' }, samples: [NODE_A] },
  { labels: { __name__: 'wall', service_name: 'shop', pod: 'b' }, samples: [NODE_B] },
];

describe('POST /push.v1.PusherService/Push (Connect unary)', () => {
  it('stores a real Go CPU profile sent in protobuf, billed exactly, in the window of its own time', async () => {
    const res = await post(PUSH(), pushRequestProto([goSeries]), { headers: PROTO });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/proto');
    const [row, ...more] = await rows();
    expect(more).toHaveLength(0);
    expect(row).toMatchObject({
      source: 'push',
      service: 'checkout',
      profile_type: 'cpu:nanoseconds',
      series_labels: { region: 'eu', service_name: 'checkout' },
    });
    expect(BigInt(row!.cpu_nanoseconds)).toBe(GO_CPU_NS);
    const profileStartMs = Number(foldProfile(GO_CPU).timeNanos / 1_000_000n);
    expect(profileStartMs).toBeGreaterThan(0);
    expect(row!.window_start.toISOString()).toBe(windowOf(profileStartMs, 3600).start.toISOString());
    // The series label `region` slices the fold as a sample label would (labels.keys: [version, region]).
    expect(deserializeFold(row!.fold).slices?.map((s) => [s.labels, s.total])).toEqual([[{ region: 'eu' }, GO_CPU_NS]]);
  });

  it('stores real Node profiles sent gzip-compressed in JSON, billed at go tool pprof total, once across a retry', async () => {
    const body = gzipSync(pushRequestJson(nodeSeries));
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await post(PUSH(), body, { headers: { ...JSON_CT, 'Content-Encoding': 'gzip' } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({});
    }
    const all = await rows();
    expect(all.map((r) => [r.service, r.series_labels['pod']])).toEqual([
      ['shop', 'a'],
      ['shop', 'b'],
    ]);
    expect(await stored()).toBe(NODE_CPU_NS);
  });

  it('reads protobuf gzip-compressed too, and the JSON codec with proto field names', async () => {
    const res = await post(PUSH(), gzipSync(pushRequestProto([goSeries])), {
      headers: { ...PROTO, 'Content-Encoding': 'gzip' },
    });
    expect(res.status).toBe(200);
    const doc = {
      series: [
        {
          labels: [
            { name: '__name__', value: 'process_cpu' },
            { name: 'service_name', value: 'cart' },
          ],
          samples: [{ raw_profile: GO_CPU.toString('base64url') }],
        },
      ],
    };
    const res2 = await post(PUSH(), Buffer.from(JSON.stringify(doc)), { headers: JSON_CT });
    expect(res2.status).toBe(200);
    expect((await rows()).map((r) => [r.service, BigInt(r.cpu_nanoseconds)])).toEqual([
      ['cart', GO_CPU_NS],
      ['checkout', GO_CPU_NS],
    ]);
  });

  it('answers garbage with Connect errors and a 4xx, storing nothing', async () => {
    const cases: Array<[string, Uint8Array, Record<string, string>, number, string]> = [
      ['not protobuf', Buffer.from('this is not a PushRequest at all \xff\xff'), PROTO, 400, 'invalid_argument'],
      ['not JSON', Buffer.from('{"series": [ '), JSON_CT, 400, 'invalid_argument'],
      [
        'a sample that is not pprof next to a good one',
        pushRequestProto([
          goSeries,
          { labels: { __name__: 'process_cpu', service_name: 'x' }, samples: [Buffer.from('garbage profile bytes')] },
        ]),
        PROTO,
        400,
        'invalid_argument',
      ],
      [
        'no __name__',
        pushRequestProto([{ labels: { service_name: 'checkout' }, samples: [GO_CPU] }]),
        PROTO,
        400,
        'invalid_argument',
      ],
      ['no profiles', pushRequestProto([]), PROTO, 400, 'invalid_argument'],
      [
        'gzip declared, not gzip',
        pushRequestProto([goSeries]),
        { ...PROTO, 'Content-Encoding': 'gzip' },
        400,
        'invalid_argument',
      ],
      [
        'unknown compression',
        pushRequestProto([goSeries]),
        { ...PROTO, 'Content-Encoding': 'br' },
        501,
        'unimplemented',
      ],
      ['no token', pushRequestProto([goSeries]), { 'Content-Type': 'application/proto' }, 401, 'unauthenticated'],
      [
        'wrong token',
        pushRequestProto([goSeries]),
        { 'Content-Type': 'application/proto', Authorization: 'Bearer nope' },
        401,
        'unauthenticated',
      ],
    ];
    for (const [what, body, headers, status, code] of cases) {
      const res = await post(PUSH(), body, { headers });
      expect([what, res.status, res.body['code']]).toEqual([what, status, code]);
      expect(typeof res.body['message']).toBe('string');
      expect(res.headers['content-type']).toBe('application/json');
    }
    const unsupported = await post(PUSH(), pushRequestProto([goSeries]), {
      headers: { ...AUTH, 'Content-Type': 'text/plain' },
    });
    expect(unsupported.status).toBe(415);
    expect(unsupported.headers['accept-post']).toBe('application/json, application/proto');
    expect(await rows()).toHaveLength(0);
  });

  it('answers an oversized body with invalid_argument, as Pyroscope does (not retried by Alloy)', async () => {
    const big = pushRequestProto([{ labels: goSeries.labels, samples: [Buffer.alloc(5 * 1024 * 1024, 7)] }]);
    const res = await post(PUSH(), big, { headers: PROTO });
    expect([res.status, res.body['code']]).toEqual([400, 'invalid_argument']);
  });
});

describe('POST /pyroscope/ingest', () => {
  it('is /ingest under the prefix Pyroscope also serves', async () => {
    const q = new URLSearchParams({
      name: 'checkout.cpu{region=eu,version=abc123}',
      format: 'pprof',
      from: '1795318200',
    });
    const res = await post(`${app.baseUrl}/pyroscope/ingest?${q.toString()}`, GO_CPU, {
      headers: { ...AUTH, 'Content-Type': 'application/octet-stream' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'stored', service: 'checkout', cpuNanoseconds: GO_CPU_NS.toString() });
  });
});

describe("agents' tags in the name apply to every sample, merged with the samples' own labels", () => {
  const ingest = (name: string): string =>
    `${app.baseUrl}/ingest?${new URLSearchParams({ name, from: '1795318200', spyName: 'gospy', sampleRate: '100' }).toString()}`;
  /** As the Go SDK (pyroscope-go) pushes: multipart with a `profile` part, no format, its `Tags` in the name. */
  const goSdkPush = async (name: string, profile: Buffer): Promise<void> => {
    const form = new FormData();
    form.append('profile', new Blob([new Uint8Array(profile)]), 'profile.pprof');
    const response = await fetch(ingest(name), { method: 'POST', body: form, headers: AUTH });
    expect(response.status).toBe(200);
  };
  const slices = async (): Promise<Array<[Labels, bigint]>> => {
    const [row, ...more] = await rows();
    expect(more).toHaveLength(0);
    return (deserializeFold(row!.fold).slices ?? []).map((x) => [x.labels, x.total]);
  };

  it('slices a Go SDK push by the version and region tags of its name', async () => {
    await goSdkPush('checkout.cpu{version=abc123,region=eu}', GO_CPU);
    expect(await slices()).toEqual([[{ region: 'eu', version: 'abc123' }, GO_CPU_NS]]);
  });

  it('keeps each sample label next to the tags, so both slice the same profile', async () => {
    await goSdkPush('checkout.cpu{version=abc123}', GO_LABELLED);
    // The profile's own slices by `endpoint` (samples outside any request have none), each now also under the tag.
    const own = foldProfile(GO_LABELLED, { labelKeys: ['endpoint'] }).slices!;
    expect(own.length).toBeGreaterThan(2);
    const byLabels = (a: [Labels, bigint], b: [Labels, bigint]): number =>
      JSON.stringify(a[0]).localeCompare(JSON.stringify(b[0]));
    expect((await slices()).sort(byLabels)).toEqual(
      own.map((x): [Labels, bigint] => [{ ...x.labels, version: 'abc123' }, x.total]).sort(byLabels),
    );
    expect(await stored()).toBe(1_426_000_000n);
  });

  it("lets a sample's own label win over a tag of the same key", async () => {
    // node-a.pb.gz: the samples taken in the workload carry version=v1 (set in code with the profiler's labels).
    const res = await post(ingest('shop.cpu{version=from-tag,region=us}') + '&format=pprof', NODE_A, {
      headers: { ...AUTH, 'Content-Type': 'application/octet-stream' },
    });
    expect(res.status).toBe(200);
    const own = foldProfile(NODE_A, { labelKeys: ['version'], sampleType: 'cpu' }).slices!;
    const labelled = own.find((x) => x.labels['version'] === 'v1')!;
    const unlabelled = own.find((x) => x.labels['version'] === undefined);
    expect(labelled.total).toBeGreaterThan(0n);
    expect(await slices()).toEqual([
      ...(unlabelled ? [[{ region: 'us', version: 'from-tag' }, unlabelled.total]] : []),
      [{ region: 'us', version: 'v1' }, labelled.total],
    ]);
  });
});

describe("Pyroscope's .NET profiles (every function id 0)", () => {
  const DOTNET = ['dotnet-pprof-3', 'dotnet-pprof-73'] as const;
  const profile = (n: string): Buffer =>
    readFileSync(join(FIXTURES, 'corpus/profiles/grafana-pyroscope', `${n}.pb.gz`));
  const oracle = (n: string): bigint =>
    BigInt(
      (JSON.parse(readFileSync(join(FIXTURES, 'dotnet', `${n}.cpu.top.json`), 'utf8')) as { total: string }).total,
    );
  const ingest = (spyName: string): string =>
    `${app.baseUrl}/ingest?${new URLSearchParams({ name: 'payments.cpu', from: '1795318200', format: 'pprof', spyName }).toString()}`;

  it('are stored from dotnetspy with their CPU time, repaired as Pyroscope repairs them', async () => {
    for (const n of DOTNET) {
      const res = await post(ingest('dotnetspy'), profile(n), {
        headers: { ...AUTH, 'Content-Type': 'application/octet-stream' },
      });
      expect([n, res.status, res.body['cpuNanoseconds']]).toEqual([n, 200, oracle(n).toString()]);
    }
    expect(await stored()).toBe(oracle('dotnet-pprof-3') + oracle('dotnet-pprof-73'));
  });

  it('are refused from other agents and through the Connect push, as Pyroscope refuses them there', async () => {
    const res = await post(ingest('gospy'), profile('dotnet-pprof-3'), {
      headers: { ...AUTH, 'Content-Type': 'application/octet-stream' },
    });
    expect(res.status).toBe(422);
    const connect = await post(
      PUSH(),
      pushRequestProto([
        { labels: { __name__: 'process_cpu', service_name: 'payments' }, samples: [profile('dotnet-pprof-3')] },
      ]),
      { headers: PROTO },
    );
    expect([connect.status, connect.body['code']]).toEqual([400, 'invalid_argument']);
    expect(String(connect.body['message'])).toMatch(/reserved ID=0/);
    expect(await rows()).toHaveLength(0);
  });
});
