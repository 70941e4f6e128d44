import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deserializeFold } from '../../src/domain/profile';
import { readRef } from '../domain/profile/corpus';
import { jfrExpectations } from '../domain/profile/jfr/jfr-oracle';
import { startTestApp, type TestApp } from '../support/app';
import { testDataSource, truncateTables } from '../support/database';
import { post } from './support/http-post';

const FIXTURES = join(__dirname, '..', 'fixtures', 'jfr');
const SHARED_JFR = resolve(__dirname, '../../../shared/profiles/grafana-jfr-parser');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));
const oracle = (recording: string) =>
  jfrExpectations(FIXTURES).find((e) => e.recording === recording && e.sampleType === 'cpu')!;

const TOKEN = 'e2e-jfr-token-51c2';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const JFR_GZ = fixture('dump1.jfr.gz');
const LABELS_GZ = fixture('dump1.labels.pb.gz');
const FROM = 1795318200; // 2026-11-22T03:30:00Z
const WINDOW = '2026-11-22T03:00:00.000Z';

let app: TestApp;
let db: DataSource;

beforeAll(async () => {
  process.env.FLAMEBILL_E2E_JFR_TOKEN = TOKEN;
  app = await startTestApp({
    logLevel: 'warn',
    settings: {
      schedules: { enabled: false, demo: false },
      labels: { keys: ['thread_name', 'dyn1'] },
      ingest: {
        maxBodyBytes: 4 * 1024 * 1024,
        tenants: [{ name: 'java-team', tokenEnv: 'FLAMEBILL_E2E_JFR_TOKEN' }],
        rateLimit: { bytesPerSecond: 0 },
      },
    },
  });
  db = await testDataSource();
});
afterAll(async () => {
  await app?.close();
  delete process.env.FLAMEBILL_E2E_JFR_TOKEN;
});
beforeEach(() => truncateTables(db, ['profiles', 'dirty_windows']));

/** The query the Pyroscope Java agent sends (pyroscope-java's `urlForSnapshot`). */
const url = (extra: Record<string, string> = {}): string =>
  `${app.baseUrl}/ingest?${new URLSearchParams({ name: 'orders.itimer{env=prod}', from: String(FROM), until: String(FROM + 10), format: 'jfr', spyName: 'javaspy', sampleRate: '100', units: 'samples', aggregationType: 'sum', ...extra }).toString()}`;

/** The Java agent's form: a `jfr` file part and a `labels` file part, each gzipped by default. */
function agentForm(jfr: Buffer, labels: Buffer | null): FormData {
  const form = new FormData();
  form.append('jfr', new Blob([new Uint8Array(jfr)]), 'jfr');
  if (labels) form.append('labels', new Blob([new Uint8Array(labels)], { type: 'application/x-protobuf' }), 'labels');
  return form;
}

async function push(
  body: FormData,
  query: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url(query), { method: 'POST', body, headers: AUTH });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

interface Row {
  service: string;
  profile_type: string;
  cpu_nanoseconds: string;
  series_labels: Record<string, string>;
  raw: Buffer;
  fold: Buffer;
}
const rows = (): Promise<Row[]> => db.query('SELECT * FROM profiles ORDER BY id') as Promise<Row[]>;

describe('POST /ingest?format=jfr, as the Pyroscope Java agent pushes', () => {
  it("bills a multipart push (gzipped jfr and labels parts) at grafana/jfr-parser's process_cpu total, sliced by the labels part", async () => {
    const expected = oracle('dump1.jfr.gz');
    const res = await push(agentForm(JFR_GZ, LABELS_GZ));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'stored',
      service: 'orders',
      window: WINDOW,
      profileType: 'cpu:nanoseconds',
      cpuNanoseconds: expected.total.toString(),
    });
    const [row] = await rows();
    expect(row).toMatchObject({ service: 'orders', profile_type: 'cpu:nanoseconds', series_labels: { env: 'prod' } });
    expect(BigInt(row!.cpu_nanoseconds)).toBe(expected.total);
    expect(row!.raw.equals(JFR_GZ)).toBe(true);
    const fold = deserializeFold(row!.fold);
    expect(fold.format).toBe('jfr');
    expect(new Map([...fold.functions].map(([n, v]) => [n, { flat: v.flat, cum: v.cum }]))).toEqual(expected.functions);
    const byThread = new Map(fold.slices!.map((s) => [s.labels['thread_name'] ?? '', s.total]));
    expect(byThread.get('pool-2-thread-1')).toBe(4_710_000_000n);
    expect([...byThread.values()].reduce((a, b) => a + b, 0n)).toBe(expected.total);
  });

  it("slices by the application's own labels (pyroscope-java's LabelsScope), as `endpoint` or `version` would be", async () => {
    const res = await push(agentForm(fixture('new_spancontext.jfr.gz'), fixture('new_spancontext.labels.gz')), {
      name: 'fib{version=2.1.0}',
    });
    expect(res.body).toMatchObject({
      status: 'stored',
      service: 'fib',
      cpuNanoseconds: oracle('new_spancontext.jfr.gz').total.toString(),
    });
    const [row] = await rows();
    expect(row!.series_labels).toEqual({ version: '2.1.0' });
    const fold = deserializeFold(row!.fold);
    expect(fold.slices!.map((s) => [s.labels, s.total])).toEqual([
      [{}, 2_370_000_000n],
      [{ dyn1: 'v1' }, 2_350_000_000n],
    ]);
  });

  it('reads plain (not gzipped) parts, and no labels part', async () => {
    const res = await push(agentForm(gunzipSync(JFR_GZ), null));
    expect(res.body).toMatchObject({ status: 'stored', cpuNanoseconds: oracle('dump1.jfr.gz').total.toString() });
    const fold = deserializeFold((await rows())[0]!.fold);
    expect(fold.slices).toEqual([{ labels: {}, total: fold.total, functions: fold.functions }]);
  });

  it('reads a recording sent as the whole body, and values a sample at 1e9 / sampleRate ns', async () => {
    const res = await post(url({ sampleRate: '1000' }), fixture('example.jfr.gz'), {
      headers: { ...AUTH, 'Content-Type': 'application/octet-stream' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'stored',
      cpuNanoseconds: (oracle('example.jfr.gz').total / 10n).toString(),
    });
  });

  it('counts an identical retry once', async () => {
    const first = await push(agentForm(JFR_GZ, LABELS_GZ));
    const retry = await push(agentForm(JFR_GZ, LABELS_GZ));
    expect(retry.body).toMatchObject({ status: 'duplicate', id: first.body.id });
    expect(await rows()).toHaveLength(1);
  });

  it.each([
    [
      'a corrupt recording',
      () => push(agentForm(gunzipSync(JFR_GZ).subarray(0, 5000), null)),
      /^jfr: expected a chunk size within the data/,
    ],
    ['a corrupt labels part', () => push(agentForm(JFR_GZ, Buffer.from([0x0a, 0x7f, 0x01]))), /^jfr: labels part: /],
    [
      'a form without a jfr part',
      async () => {
        const form = new FormData();
        form.append('profile', new Blob([new Uint8Array(JFR_GZ)]), 'profile');
        return push(form);
      },
      /^multipart form: no jfr part/,
    ],
    [
      'a pprof sent as jfr',
      () =>
        post(
          url(),
          gunzipSync(readFileSync(join(__dirname, '..', 'fixtures', 'profiles', 'grafana-pyroscope', 'cpu.pprof'))),
          { headers: AUTH },
        ),
      /^jfr: expected a chunk magic/,
    ],
  ] as const)('answers 422 to %s and stores nothing', async (_label, send, message) => {
    const res = await send();
    expect(res.status).toBe(422);
    expect(String(res.body.message)).toMatch(message);
    expect(await rows()).toHaveLength(0);
  });
});

describe.skipIf(!existsSync(SHARED_JFR))(
  'POST /ingest?format=jfr bills every recording of ../shared at its process_cpu oracle',
  () => {
    const cases = existsSync(SHARED_JFR) ? jfrExpectations(SHARED_JFR).filter((e) => e.sampleType === 'cpu') : [];
    // Every recording but nativemem.jfr.gz, which has only malloc events.
    it('has them', () => expect(new Set(cases.map((e) => e.recording)).size).toBeGreaterThanOrEqual(12));
    it.each(cases.map((e) => [e.recording, e] as const))('%s', async (recording, e) => {
      const res = await push(agentForm(readFileSync(join(SHARED_JFR, recording)), null), {
        name: `java-${recording.replace(/[^A-Za-z0-9]/g, '-')}`,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'stored',
        profileType: 'cpu:nanoseconds',
        cpuNanoseconds: e.total.toString(),
      });
    });

    it("bills Pyroscope's kafka recording at the total of the pprof Pyroscope converted it to", async () => {
      const pyroscope = resolve(SHARED_JFR, '..', 'grafana-pyroscope');
      const ref = readRef(
        resolve(
          SHARED_JFR,
          '../../profile-refs/grafana-pyroscope/cortex-dev-01__kafka-0__cpu__0.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz.cpu.top.json',
        ),
      );
      const res = await push(agentForm(readFileSync(join(pyroscope, 'cortex-dev-01__kafka-0__cpu__0.jfr.gz')), null), {
        name: 'kafka{env=dev}',
      });
      expect(res.body).toMatchObject({ status: 'stored', service: 'kafka', cpuNanoseconds: ref.total.toString() });
    });
  },
);
