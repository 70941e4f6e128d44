import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { foldPush, planIngest, type PushFoldOptions } from '../../src/domain/ingest';
import { deserializeFold, serializeFold } from '../../src/domain/profile';
import { FoldQueueFullError, IngestFoldPool } from '../../src/ingest/ingest-fold.pool';
import { runFoldTask, type FoldTask, type FoldTaskResult } from '../../src/ingest/ingest-fold.task';

const FIXTURES = join(__dirname, '..', 'fixtures', 'profiles');
const fixture = (path: string): Buffer => readFileSync(join(FIXTURES, path));
const FROM = 1795318200; // 2026-11-22T03:30:00Z
const OPTIONS: PushFoldOptions = { labelKeys: ['endpoint'], maxLabelValues: 100, countWallAsCpu: false };

const pprofTask = (body: Buffer, name = 'checkout.cpu{env=prod}'): FoldTask => ({
  plan: planIngest(
    { name, from: String(FROM), until: String(FROM + 10), format: 'pprof' },
    'application/octet-stream',
    FROM * 1000,
    3600,
  ),
  body,
  options: OPTIONS,
});
const foldedTask = (body: Buffer): FoldTask => ({
  plan: planIngest(
    { name: 'java-app.cpu{pod=a}', from: String(FROM), sampleRate: '100' },
    'text/plain',
    FROM * 1000,
    3600,
  ),
  body,
  options: OPTIONS,
});
const jfrTask = (body: Buffer, jfrLabels: Buffer | null): FoldTask => ({
  plan: planIngest(
    { name: 'orders{env=prod}', from: String(FROM), format: 'jfr', sampleRate: '100' },
    'multipart/form-data; boundary=x',
    FROM * 1000,
    3600,
  ),
  body,
  jfrLabels,
  options: { ...OPTIONS, labelKeys: ['thread_name'] },
});
const jfrFixture = (name: string): Buffer => readFileSync(join(__dirname, '..', 'fixtures', 'jfr', name));

const GO_PGO = fixture('golang-go/default.pgo'); // 240 kB gzipped: long enough to keep a worker busy
const CASES: ReadonlyArray<[string, FoldTask, FoldTaskResult['action']]> = [
  ['gzipped Go CPU pprof', pprofTask(fixture('grafana-pyroscope/cpu.pprof')), 'store'],
  ['Go PGO profile', pprofTask(GO_PGO), 'store'],
  [
    'Node wall profile with endpoint labels (wall not counted)',
    pprofTask(fixture('grafana-pyroscope/nodejs-wall.pb.gz')),
    'skip',
  ],
  ['heap profile (not CPU)', pprofTask(fixture('grafana-pyroscope/heap.pb.gz')), 'skip'],
  ['folded text', foldedTask(fixture('flamegraph/perf-java-stacks-01-collapsed-all.txt')), 'store'],
  ['corrupt gzip', pprofTask(Buffer.concat([GO_PGO.subarray(0, 5000), Buffer.alloc(100, 0xff)])), 'unreadable'],
  ['empty body', pprofTask(Buffer.alloc(0)), 'skip'],
  [
    'JFR recording with the Java agent labels part',
    jfrTask(jfrFixture('dump1.jfr.gz'), jfrFixture('dump1.labels.pb.gz')),
    'store',
  ],
  ['truncated JFR recording', jfrTask(gunzipSync(jfrFixture('dump1.jfr.gz')).subarray(0, 4000), null), 'unreadable'],
];

const pools: IngestFoldPool[] = [];
const newPool = (workers: number, maxQueue = 16, inlineMaxBytes = 0): IngestFoldPool => {
  const pool = new IngestFoldPool({ workers, maxQueue, inlineMaxBytes });
  pools.push(pool);
  return pool;
};
afterAll(async () => {
  for (const pool of pools) await pool.close();
});

describe('IngestFoldPool', () => {
  it.each(CASES)('gives in a worker thread exactly what the inline fold gives: %s', async (_label, task, action) => {
    const pool = newPool(2);
    const inWorker = await pool.fold(task);
    expect(inWorker.action).toBe(action);
    expect(inWorker).toEqual(runFoldTask(task));
  });

  it('stores the fold foldPush computes, serialized, with its digest and CPU time', async () => {
    const task = pprofTask(GO_PGO);
    const result = await newPool(1).fold(task);
    const direct = foldPush(task.plan, task.body, OPTIONS);
    if (result.action !== 'store' || direct.action !== 'store')
      throw new Error(`expected both stored, got ${result.action} and ${direct.action}`);
    expect(Buffer.from(result.serializedFold).equals(Buffer.from(serializeFold(direct.fold)))).toBe(true);
    expect(deserializeFold(result.serializedFold).total).toBe(direct.cpuNanoseconds);
    expect(result).toMatchObject({
      service: 'checkout',
      profileType: 'cpu:nanoseconds',
      digest: direct.digest,
      cpuNanoseconds: direct.cpuNanoseconds,
      sampleCount: direct.fold.sampleCount,
      wallOnly: false,
    });
  });

  it("leaves the caller's body intact (the worker gets a copy of exactly its bytes, even from a slice of a larger buffer)", async () => {
    const backing = Buffer.concat([Buffer.alloc(1000, 7), GO_PGO, Buffer.alloc(1000, 9)]);
    const body = backing.subarray(1000, 1000 + GO_PGO.length);
    const result = await newPool(1).fold(pprofTask(body));
    expect(result.action).toBe('store');
    expect(body.byteLength).toBe(GO_PGO.length);
    expect(body.equals(GO_PGO)).toBe(true);
    expect(result).toEqual(runFoldTask(pprofTask(GO_PGO)));
  });

  it('reports an unreadable profile as data with the decoder message (the error class does not cross threads)', async () => {
    const result = await newPool(1).fold(pprofTask(Buffer.from('not a profile at all, just text')));
    expect(result.action).toBe('unreadable');
    expect(result.action === 'unreadable' && result.message).toMatch(/^pprof: .*\(at byte \d+\)$/);
  });

  it('leaves the calling thread free while a worker folds (inline, the event loop stops until the fold is done)', async () => {
    const pool = newPool(1);
    await pool.fold(pprofTask(GO_PGO)); // the thread is started and warm
    expect(await loopTurnsWhile(pool, pprofTask(GO_PGO))).toBeGreaterThan(0);
    expect(await loopTurnsWhile(newPool(0), pprofTask(GO_PGO))).toBe(0);
  });

  it('folds a small body inline (cheaper than the hop), unless it inflates past 64 KiB', async () => {
    const pool = newPool(1, 16, 16 * 1024);
    await pool.fold(pprofTask(GO_PGO)); // warm
    const small = pprofTask(fixture('grafana-pyroscope/cpu.pprof')); // 1.2 kB gzipped
    expect(small.body.length).toBeLessThan(16 * 1024);
    expect(await loopTurnsWhile(pool, small)).toBe(0);
    expect(await pool.fold(small)).toEqual(await newPool(1).fold(small));
    // 1 kB of gzip that inflates to 1 MiB: small on the wire, not cheap to fold, so a worker takes it.
    const bomb = pprofTask(gzipSync(Buffer.alloc(1024 * 1024, 0x0a)));
    expect(bomb.body.length).toBeLessThan(16 * 1024);
    expect(await loopTurnsWhile(pool, bomb)).toBeGreaterThan(0);
    expect((await pool.fold(bomb)).action).toBe('unreadable');
    // Not gzip and over the size: a worker too.
    expect(
      await loopTurnsWhile(newPool(1, 16, 1024), pprofTask(gunzipSync(fixture('grafana-pyroscope/cpu.pprof')))),
    ).toBeGreaterThan(0);
  });

  it('refuses a fold when every worker is busy and the queue is full, and finishes the accepted ones', async () => {
    const pool = newPool(1, 2);
    const settled = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => pool.fold(pprofTask(GO_PGO, `svc-${i}.cpu`))),
    );
    const refused = settled.filter((s) => s.status === 'rejected');
    const done = settled.filter((s) => s.status === 'fulfilled');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((s) => s.status === 'rejected' && s.reason instanceof FoldQueueFullError)).toBe(true);
    // One running and at most two waiting when the burst arrived (one more if the first thread was still starting).
    expect(done.length).toBeGreaterThanOrEqual(1);
    expect(done.length).toBeLessThanOrEqual(4);
    expect(done.every((s) => s.status === 'fulfilled' && s.value.action === 'store')).toBe(true);
  });

  it('rejects folds after close', async () => {
    const pool = new IngestFoldPool({ workers: 1, maxQueue: 4 });
    await pool.fold(pprofTask(GO_PGO));
    await pool.close();
    await expect(pool.fold(pprofTask(GO_PGO))).rejects.toThrow('closed');
  });
});

/** Event-loop turns that ran while `pool` folded `task`: 0 means the fold held the calling thread throughout. */
async function loopTurnsWhile(pool: IngestFoldPool, task: FoldTask): Promise<number> {
  let turns = 0;
  let done = false;
  const spin = (): void => {
    if (done) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  await pool.fold(task);
  done = true;
  return turns;
}
