import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldProfile, mergeFolds } from '../../src/domain/profile';
import { JobsService } from '../../src/jobs/jobs.service';
import { testDataSource, truncateTables } from '../support/database';
import { startApiApp, type ApiTestApp } from './support';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'corpus', 'profiles');
/** Real Go CPU profiles, pushed as one service's profiles of one day (as the Go SDK pushes them). */
const FILES = ['golang-go/devirt.pprof', 'golang-go/inline_hot.pprof', 'grafana-pyroscope/cpu.pprof'];
const FROM = Date.parse('2026-11-21T06:10:00Z') / 1000;

function haveGo(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `go tool pprof -top` of a file as (function → flat, cum) in nanoseconds. */
function goTop(file: string): Map<string, [string, string]> {
  const out = execFileSync(
    'go',
    [
      'tool',
      'pprof',
      '-symbolize=none',
      '-top',
      '-nodecount=1000000',
      '-nodefraction=0',
      '-edgefraction=0',
      '-unit=ns',
      '-sample_index=cpu',
      file,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const rows = new Map<string, [string, string]>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)ns\s+\S+\s+\S+\s+(\d+)ns\s+\S+\s+(.+?)(?: \(inline\))?$/.exec(line);
    if (m) rows.set(m[3]!, [m[1]!, m[2]!]);
  }
  return rows;
}

/** `GET /api/v1/profiles/{service}`: the merged profile of the pushed files, from the stored trees. */
describe('profiles for PGO and flame graphs', () => {
  let app: ApiTestApp;
  let db: DataSource;
  let exportKey: string;

  beforeAll(async () => {
    db = await testDataSource();
    await truncateTables(db);
    app = await startApiApp({ ingest: { keepRaw: true } });
    for (const file of FILES) {
      const body = readFileSync(path.join(FIXTURES, file));
      const push = await fetch(`${app.baseUrl}/ingest?name=pgo-svc&format=pprof&from=${FROM}&until=${FROM + 10}`, {
        method: 'POST',
        body,
      });
      expect(push.status).toBe(200);
    }
    const jobs = app.app.get(JobsService);
    expect(await jobs.run('attribute')).toMatchObject({ status: 'succeeded' });
    expect(
      await jobs.run('profile-trees', { from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') }),
    ).toMatchObject({ status: 'succeeded' });
    exportKey = await app.key('export');
  });
  afterAll(async () => app?.close());

  const url = (format: string) => `/api/v1/profiles/pgo-svc?from=2026-11-21&to=2026-11-22&format=${format}`;

  it('gives a gzipped pprof named in Content-Disposition whose functions are those of the pushed files merged', async () => {
    const response = await fetch(`${app.baseUrl}${url('pprof')}`, {
      headers: { authorization: `Bearer ${exportKey}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="pgo-svc-2026-11-21-2026-11-22.pb.gz"',
    );
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes[0]).toBe(0x1f);
    const exported = foldProfile(bytes, { sampleType: 'cpu' });
    const pushed = mergeFolds(
      FILES.map((f) => foldProfile(readFileSync(path.join(FIXTURES, f)), { sampleType: 'cpu' })),
    );
    expect(exported.total).toBe(pushed.total);
    expect(new Map(exported.functions)).toEqual(new Map(pushed.functions));

    if (!haveGo()) return; // the engine equals go tool pprof on every corpus file (golden tests); go checks it once more here
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flamebill-pgo-'));
    try {
      writeFileSync(path.join(dir, 'default.pgo'), gunzipSync(bytes));
      const merged = path.join(dir, 'merged.pb.gz');
      writeFileSync(
        merged,
        execFileSync('go', ['tool', 'pprof', '-proto', ...FILES.map((f) => path.join(FIXTURES, f))], {
          stdio: ['ignore', 'pipe', 'ignore'],
        }),
      );
      const top = goTop(merged);
      expect(top.size).toBeGreaterThan(10);
      expect(goTop(path.join(dir, 'default.pgo'))).toEqual(top);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives speedscope, folded and a pruned JSON tree of the same total', async () => {
    const speedscope = await app.get(url('speedscope'), exportKey);
    expect(speedscope.status).toBe(200);
    expect(speedscope.body.$schema).toBe('https://www.speedscope.app/file-format-schema.json');
    const folded = await app.get(url('folded'), exportKey);
    const total = foldProfile(Buffer.from(folded.text)).total;
    const json = await app.get(url('json'), exportKey);
    expect(BigInt(json.body.tree.total)).toBe(total);
    expect(json.body.days).toBe(1);
  });

  it('needs an export key, whole UTC days, and answers 404 where no profile is stored', async () => {
    expect((await app.get(url('pprof'), null)).status).toBe(401);
    expect((await app.get(url('json'), await app.key('read'))).status).toBe(403);
    const notMidnight = await app.get('/api/v1/profiles/pgo-svc?from=2026-11-21T06:00:00Z&to=2026-11-22', exportKey);
    expect(notMidnight).toMatchObject({ status: 400, body: { param: 'from' } });
    const missing = await app.get('/api/v1/profiles/no-such-svc?from=2026-11-21&to=2026-11-22', exportKey);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});
