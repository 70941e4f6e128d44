import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { JobsService } from '../src/jobs/jobs.service';
import type { RunningServer } from '../src/server/bootstrap';
import { migratedBenchDatabase, reusedBenchDatabase } from './support/bench-database';
import { startBenchServer } from './support/bench-server';
import { loadAverage } from './support/measure';
import { fill } from './queries.bench';

const TEAMS = 100;
const SERVICES = 990;

/**
 * The weekly report for a whole organisation (`npm run bench -- weekly-report`): 100 team emails and the
 * organisation's, rendered (charts to PNG, CSS inlined) and sent over SMTP to a local server, on the query bench's
 * year of 1,000 services (queries.bench.ts), week 2026-W48. The catalog is generated to match its facts: groups
 * team-000 to team-099 with an address each, services svc-0000 to svc-0989 owned round-robin (svc-0990 to svc-0999
 * stay unowned). Prints the job's wall time, messages per second and the mean message size; no reference to compare
 * with (no other tool sends this report), the figure stands beside the Monday-morning budget.
 */
export async function run(): Promise<void> {
  const out = process.stdout;
  out.write(`load ${loadAverage()}\n`);
  // FLAMEBILL_BENCH_REUSE=<url of a query or dashboard bench database kept with FLAMEBILL_BENCH_KEEP=1>: no fill.
  const reuse = process.env['FLAMEBILL_BENCH_REUSE']?.trim();
  const { db, url, close } = reuse ? await reusedBenchDatabase(reuse) : await migratedBenchDatabase();
  const catalogDir = await mkdtemp(path.join(os.tmpdir(), 'flamebill-bench-catalog-'));
  let received = 0;
  let bytes = 0;
  const smtp = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, _session, callback) {
      received++;
      stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
      stream.on('end', () => callback());
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  let server: RunningServer | null = null;
  try {
    await writeCatalog(catalogDir);
    const t0 = performance.now();
    if (!reuse) await fill(db, 14);
    out.write(reuse ? `facts of ${reuse}\n` : `facts filled in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    server = await startBenchServer(url, {
      paths: { catalogDir },
      report: {
        smtp: { host: '127.0.0.1', port, secure: false },
        orgRecipients: ['finance@bench.example'],
        dashboardUrl: 'https://flamebill.bench.example',
      },
    });
    const jobs = server.app.get(JobsService);
    const start = performance.now();
    const summary = await jobs.run('weekly-report', { extra: { week: '2026-W48' } });
    const seconds = (performance.now() - start) / 1000;
    if (summary.status !== 'succeeded') throw new Error(`weekly-report: ${JSON.stringify(summary)}`);
    out.write(
      `weekly-report 2026-W48: ${received} messages (${TEAMS} teams + the organisation) in ${seconds.toFixed(1)} s, ` +
        `${(received / seconds).toFixed(1)} messages/s, ${(seconds / Math.max(1, received)).toFixed(2)} s each, ` +
        `mean ${(bytes / Math.max(1, received) / 1024).toFixed(0)} KiB; counts ${JSON.stringify(summary.counts)}\n`,
    );
  } finally {
    await server?.app.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await close();
    await rm(catalogDir, { recursive: true, force: true });
  }
  out.write(`load average after: ${loadAverage()}\n`);
}

async function writeCatalog(dir: string): Promise<void> {
  const docs: string[] = [];
  for (let t = 0; t < TEAMS; t++) {
    const team = `team-${String(t).padStart(3, '0')}`;
    docs.push(
      `apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: ${team}\nspec:\n  type: team\n  profile:\n    email: ${team}@bench.example\n  children: []\n`,
    );
  }
  for (let s = 0; s < SERVICES; s++) {
    docs.push(
      `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-${String(s).padStart(4, '0')}\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/team-${String(s % TEAMS).padStart(3, '0')}\n`,
    );
  }
  await writeFile(path.join(dir, 'catalog.yaml'), docs.join('---\n'));
}
