import { readFileSync } from 'node:fs';
import { JobsService } from '../../src/jobs/jobs.service';
import type { TestApp } from '../support/app';
import type { DataSource } from 'typeorm';
import { regressionFingerprint } from '../../src/domain/regression';
import {
  findingJson,
  RegressionRepository,
  type FindingFigures,
  type OutboxEvent,
} from '../../src/regressions/regression.repository';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'regressions');
export const DAY_MS = 86_400_000;

export function profile(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, `${name}.pb.gz`));
}

/** A catalog folder with one team and one service routed by `annotations`. */
export async function catalogDir(service: string, annotations: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flamebill-regressions-catalog-'));
  const ann = Object.entries(annotations)
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  await writeFile(
    path.join(dir, 'catalog.yaml'),
    `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: shop-team
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${service}
${ann ? `  annotations:\n${ann}\n` : ''}spec:
  type: service
  lifecycle: production
  owner: group:default/shop-team
`,
  );
  return dir;
}

/** YAML lines of an annotations mapping (none: no `annotations` key). */
function annotationLines(annotations: Record<string, string>): string {
  const lines = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  return lines.length ? `  annotations:\n${lines.join('\n')}\n` : '';
}

/**
 * A catalog folder with a Group tree: `org` above `team` (its `spec.parent`), and `service` owned by `team`, each with
 * its own annotations (the routing ones go Component, then team, then org).
 */
export async function catalogTreeDir(
  service: string,
  annotations: { component?: Record<string, string>; team?: Record<string, string>; org?: Record<string, string> },
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flamebill-regressions-catalog-'));
  await writeFile(
    path.join(dir, 'catalog.yaml'),
    `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: org
${annotationLines(annotations.org ?? {})}spec:
  type: organization
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: shop-team
${annotationLines(annotations.team ?? {})}spec:
  type: team
  parent: org
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${service}
${annotationLines(annotations.component ?? {})}spec:
  type: service
  lifecycle: production
  owner: group:default/shop-team
`,
  );
  return dir;
}

/** Pushes a profile for the hour starting at `at` as a Pyroscope agent would (series label version). */
export async function push(baseUrl: string, service: string, version: string, at: Date, bytes: Buffer): Promise<void> {
  const from = Math.floor(at.getTime() / 1000);
  const res = await fetch(
    `${baseUrl}/ingest?${new URLSearchParams({ name: `${service}{version=${version}}`, format: 'pprof', from: String(from), until: String(from + 10) })}`,
    { method: 'POST', body: bytes },
  );
  if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
}

/** A finding of a service of its own (a tracker keeps earlier runs' issues), queued as a scan would queue `event`. */
export async function queueFinding(db: DataSource, service: string, event: OutboxEvent = 'opened'): Promise<string> {
  const fingerprint = regressionFingerprint(service, 'main.validateEmail', 'cpu/nanoseconds', 'cum');
  const f: FindingFigures = {
    fingerprint,
    service,
    function: 'main.validateEmail',
    sampleType: 'cpu/nanoseconds',
    kind: 'cum',
    team: 'shop-team',
    baseShare: 0.0379,
    currentShare: 0.3976,
    baseCpuNanoseconds: 120_000_000n,
    currentCpuNanoseconds: 1_300_000_000n,
    cpuNanosecondsDelta: 1_103_159_144n,
    impactPerYearMicros: 4_900_000n,
    pValue: 1.5e-15,
    baseVersion: 'v1',
    currentVersion: 'v2',
    baseFrom: new Date('2026-11-20T00:00:00Z'),
    baseTo: new Date('2026-11-21T00:00:00Z'),
    currentFrom: new Date('2026-11-21T00:00:00Z'),
    currentTo: new Date('2026-11-22T00:00:00Z'),
    topCallers: [{ function: 'main.handle.func1', cpuNanosecondsDelta: 1_103_159_144n }],
  };
  const repo = new RegressionRepository(db);
  await db.transaction(async (tx) => {
    await repo.upsert(
      tx,
      f,
      event === 'resolved' ? 'resolved' : event === 'reopened' ? 'reopened' : 'open',
      f.cpuNanosecondsDelta,
      null,
    );
    await repo.enqueue(tx, fingerprint, event, findingJson(f));
  });
  return fingerprint;
}

/**
 * Stored profile trees for `queueFinding`'s finding of `service` (v1 on its baseline day, v2 on its current day, the
 * real Go pair whose v2 compiles a regex per call), so a delivery can draw its differential flame graph.
 */
export async function storeTrees(app: TestApp, service: string): Promise<void> {
  await push(app.baseUrl, service, 'v1', new Date('2026-11-20T10:00:00Z'), profile('v1-a'));
  await push(app.baseUrl, service, 'v2', new Date('2026-11-21T10:00:00Z'), profile('v2-regex'));
  const jobs = app.app.get(JobsService);
  const attributed = await jobs.run('attribute');
  if (attributed.status !== 'succeeded') throw new Error(`attribute: ${JSON.stringify(attributed)}`);
  const range = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') };
  const built = await jobs.run('profile-trees', range);
  if (built.status !== 'succeeded') throw new Error(`profile-trees: ${JSON.stringify(built)}`);
}
