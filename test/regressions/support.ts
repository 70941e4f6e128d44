import { readFileSync } from 'node:fs';
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
  const ann = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`).join('\n');
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

/** Pushes a profile for the hour starting at `at` as a Pyroscope agent would (series label version). */
export async function push(baseUrl: string, service: string, version: string, at: Date, bytes: Buffer): Promise<void> {
  const from = Math.floor(at.getTime() / 1000);
  const res = await fetch(`${baseUrl}/ingest?${new URLSearchParams({ name: `${service}{version=${version}}`, format: 'pprof', from: String(from), until: String(from + 10) })}`, { method: 'POST', body: bytes });
  if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
}
